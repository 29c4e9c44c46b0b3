using Rest.Onnx.DemoModel.Commands;

namespace Rest.Onnx.DemoModel;

/// <summary>rest-demo-model: the demo model's data pipeline (corpus split, token files, dev prompts).</summary>
internal static class Program
{
    private static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the command line with its own output writers (tests pass string writers).</summary>
    internal static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = Cli.Root("rest-demo-model", "The demo model's data pipeline: corpus split, token files, dev prompts, the large demo datastore.");
        root.Add(PrepareCommand.Create());
        root.Add(CorpusTextCommand.Create());
        root.Add(ListCommand.Create());
        root.Add(EncodeLinesCommand.Create());
        root.Add(CorpusLargeCommand.Create());
        return Cli.Run(root, args, output, error, _ => false);
    }
}
