using Rest.Onnx.Manifest;
using System.CommandLine;
using System.Diagnostics;

namespace Rest.Onnx.Export.Tool.Commands;

/// <summary><c>rest-export convert</c>: a Hugging Face Llama checkpoint folder to an ONNX model folder.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--in") { Description = "Hugging Face checkpoint folder (config.json, *.safetensors, tokenizer)", HelpName = "FOLDER", Required = true };
        var output = new Option<string>("--out") { Description = "folder to write the ONNX model to", HelpName = "FOLDER", Required = true };
        var dtype = Cli.Choice("--dtype", "weight, activation and KV cache type (fp16 is meant for CUDA)", "fp32", ("fp32", ModelDType.Float32), ("fp16", ModelDType.Float16));
        var variant = Cli.Choice("--variant", "opset23: the Rest.Onnx graph; genai: the onnxruntime-genai layout",
            "opset23", ("opset23", GraphVariant.Opset23), ("genai", GraphVariant.GenAI));
        var embedWeights = Cli.Flag("--embed-weights", "weights inside model.onnx instead of model.onnx.data (only below 2 GB)");
        var maxPositions = new Option<int?>("--max-positions") { Description = "length of the rotary tables [default: the config's max_position_embeddings]", HelpName = "N" }.InRange(1, int.MaxValue);
        var padTokenId = new Option<int?>("--pad-token-id") { Description = "pad id for genai_config.json [default: the checkpoint's pad_token_id, else 0]", HelpName = "N" }.InRange(0, int.MaxValue);
        var command = new Command("convert", "convert a Hugging Face Llama checkpoint to ONNX")
        {
            input, output, dtype.Option, variant.Option, embedWeights, maxPositions, padTokenId,
        };
        command.SetAction(p =>
        {
            var options = new ExportOptions
            {
                DType = dtype.Get(p),
                Variant = variant.Get(p),
                EmbedWeights = p.GetValue(embedWeights),
                MaxPositions = p.GetValue(maxPositions),
                PadTokenId = p.GetValue(padTokenId),
            };
            var stdout = p.InvocationConfiguration.Output;
            var clock = Stopwatch.StartNew();
            var result = LlamaExporter.Export(p.GetRequiredValue(input), p.GetRequiredValue(output), options, new ConsoleProgress(stdout));
            stdout.WriteLine();
            stdout.WriteLine($"Wrote {result.ModelPath} ({result.TensorCount} tensors, {result.WeightBytes / 1048576.0:F1} MiB of weights) " +
                             $"in {clock.Elapsed.TotalSeconds:F1} s; peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB.");
            return Cli.Success;
        });
        return command;
    }

    /// <summary>Synchronous progress line: tensor n of m and bytes written.</summary>
    private sealed class ConsoleProgress(TextWriter output) : IProgress<ExportProgress>
    {
        // One rewritten line on a terminal; a line per tensor into files, pipes and test writers.
        private readonly bool _terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;

        public void Report(ExportProgress value)
        {
            var line = $"tensor {value.TensorIndex}/{value.TensorCount}  {value.BytesWritten / 1048576.0,9:F1} MiB  {value.TensorName}";
            if (!_terminal) output.WriteLine(line);
            else Console.Write("\r" + line.PadRight(Math.Max(0, Console.WindowWidth - 1))[..Math.Max(1, Console.WindowWidth - 1)]);
        }
    }
}
