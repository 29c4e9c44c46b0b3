using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Datastore.Format;
using Rest.Onnx.Datastore.Tool.Commands;

namespace Rest.Onnx.Datastore.Tool;

/// <summary>rest-datastore: build, inspect and query REST datastores.</summary>
internal static class Program
{
    private static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the command line with its own output writers (tests pass string writers).</summary>
    internal static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = Cli.Root("rest-datastore", "Build, inspect and query REST datastores (token corpus + suffix array).");
        root.Add(BuildCommand.Create());
        root.Add(InfoCommand.Create());
        root.Add(QueryCommand.Create());
        root.Add(TokenizeCommand.Create());
        return Cli.Run(root, args, output, error, e => e is DatastoreBuildException or DatastoreFormatException);
    }
}
