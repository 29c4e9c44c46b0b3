using Rest.Onnx.Export.Tool.Commands;

namespace Rest.Onnx.Export.Tool;

/// <summary>rest-export: Hugging Face Llama checkpoints to ONNX for Rest.Onnx, and random tiny Llamas for tests.</summary>
internal static class Program
{
    private static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the command line with its own output writers (tests pass string writers).</summary>
    internal static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = Cli.Root("rest-export", "Hugging Face Llama checkpoints to ONNX for Rest.Onnx.");
        root.Add(ConvertCommand.Create());
        root.Add(TinyCommand.Create());
        return Cli.Run(root, args, output, error, e => e is System.Text.Json.JsonException);
    }
}
