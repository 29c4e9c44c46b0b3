using Rest.Onnx.Bench.Commands;
using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Datastore.Format;

namespace Rest.Onnx.Bench;

/// <summary>
/// No arguments: the main job on the built-in demo. <c>bench</c>: BenchmarkDotNet suites. <c>figures</c>: plain-stopwatch figures.
/// </summary>
internal static class Program
{
    private static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the command line with its own output writers (tests pass string writers).</summary>
    internal static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = Cli.Root("Rest.Onnx.Bench",
            "Rest.Onnx main job: plain greedy vs REST vs prompt lookup (vs onnxruntime-genai) on one engine. " +
            "All options are optional; with none it runs the built-in demo. " +
            "Run: dotnet run -c Release --project Rest.Onnx.Bench [-- options | -- bench [BenchmarkDotNet args] | -- figures datastore [--tokens N]]");
        MainJobCommand.Configure(root);
        root.Add(BenchCommand.Create());
        root.Add(FiguresCommand.Create());
        return Cli.Run(root, args, output, error, e => e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or System.Text.Json.JsonException
            or DatastoreBuildException or DatastoreFormatException or ExecutionProviderUnavailableException);
    }
}
