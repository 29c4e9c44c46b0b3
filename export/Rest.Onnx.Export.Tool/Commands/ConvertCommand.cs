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
        var dtype = Cli.Choice("--dtype", "weight, activation and KV cache type (fp16 is meant for CUDA; int4: MatMulNBits linear layers)", "fp32",
            ("fp32", ModelDType.Float32), ("fp16", ModelDType.Float16), ("int4", ModelDType.Int4));
        // Default by measurement (docs/benchmarks.md): on the CPU the gqa graph's step stays flat as the context grows and
        // needs half the KV memory, so the CPU dtypes (fp32, int4) default to gqa; fp16 is the CUDA dtype, where the gqa
        // graph has not run yet, so it keeps the portable opset23 graph.
        var variant = Cli.Choice<GraphVariant?>("--variant",
            "opset23: standard ops, 4D mask; gqa: GroupQueryAttention over one shared KV buffer; genai / genai-gqa: the onnxruntime-genai layouts; auto: gqa for fp32 and int4, opset23 for fp16",
            "auto", ("auto", null), ("opset23", GraphVariant.Opset23), ("gqa", GraphVariant.Gqa), ("genai", GraphVariant.GenAI), ("genai-gqa", GraphVariant.GenAIGqa));
        var blockSize = new Option<int?>("--block-size") { Description = "int4 only: values per 4-bit block sharing one scale (a power of two, at least 16) [default: 32]", HelpName = "N" }.InRange(16, 1 << 20);
        var accuracyLevel = new Option<int>("--accuracy-level") { Description = "int4 only: MatMulNBits accuracy_level (0: float compute, 4: int8 activations)", HelpName = "0|4" }.InRange(0, 4);
        var embedWeights = Cli.Flag("--embed-weights", "weights inside model.onnx instead of model.onnx.data (only below 2 GB)");
        var maxPositions = new Option<int?>("--max-positions") { Description = "length of the rotary tables [default: the config's max_position_embeddings]", HelpName = "N" }.InRange(1, int.MaxValue);
        var padTokenId = new Option<int?>("--pad-token-id") { Description = "pad id for genai_config.json [default: the checkpoint's pad_token_id, else 0]", HelpName = "N" }.InRange(0, int.MaxValue);
        var command = new Command("convert", "convert a Hugging Face Llama checkpoint to ONNX")
        {
            input, output, dtype.Option, variant.Option, blockSize, accuracyLevel, embedWeights, maxPositions, padTokenId,
        };
        command.SetAction(p =>
        {
            var type = dtype.Get(p);
            var options = new ExportOptions
            {
                DType = type,
                Variant = variant.Get(p) ?? (type == ModelDType.Float16 ? GraphVariant.Opset23 : GraphVariant.Gqa),
                Int4BlockSize = p.GetValue(blockSize),
                Int4AccuracyLevel = p.GetValue(accuracyLevel),
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
