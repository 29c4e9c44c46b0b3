using System.Diagnostics;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Export.Tool;

internal static partial class Verbs
{
    public static int Convert(Arguments a)
    {
        var input = a.Required("in");
        var output = a.Required("out");
        var dtype = (a.String("dtype") ?? "fp32") switch
        {
            "fp32" => ModelDType.Float32,
            "fp16" => ModelDType.Float16,
            "int4" => ModelDType.Int4,
            var other => throw new ArgumentException($"--dtype must be fp32, fp16 or int4, got '{other}'."),
        };
        // Default by measurement (docs/benchmarks.md): on the CPU the gqa graph's step stays flat as the context grows and
        // needs half the KV memory, so the CPU dtypes (fp32, int4) default to gqa; fp16 is the CUDA dtype, where the gqa
        // graph has not run yet, so it keeps the portable opset23 graph.
        var defaultVariant = dtype == ModelDType.Float16 ? "opset23" : "gqa";
        var options = new ExportOptions
        {
            DType = dtype,
            Variant = (a.String("variant") ?? defaultVariant) switch
            {
                "opset23" => GraphVariant.Opset23,
                "genai" => GraphVariant.GenAI,
                "gqa" => GraphVariant.Gqa,
                "genai-gqa" => GraphVariant.GenAIGqa,
                var other => throw new ArgumentException($"--variant must be opset23, gqa, genai or genai-gqa, got '{other}'."),
            },
            Int4BlockSize = a.OptionalInt("block-size"),
            Int4AccuracyLevel = a.Int("accuracy-level", 0),
            EmbedWeights = a.Flag("embed-weights"),
            MaxPositions = a.OptionalInt("max-positions"),
            PadTokenId = a.OptionalInt("pad-token-id"),
        };
        a.RejectUnused();
        var clock = Stopwatch.StartNew();
        var progress = new ConsoleProgress();
        var result = LlamaExporter.Export(input, output, options, progress);
        Console.WriteLine();
        Console.WriteLine($"Wrote {result.ModelPath} ({result.TensorCount} tensors, {result.WeightBytes / 1048576.0:F1} MiB of weights) " +
                          $"in {clock.Elapsed.TotalSeconds:F1} s; peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB.");
        return 0;
    }

    /// <summary>Synchronous progress line: tensor n of m and bytes written.</summary>
    private sealed class ConsoleProgress : IProgress<ExportProgress>
    {
        public void Report(ExportProgress value)
        {
            var line = $"tensor {value.TensorIndex}/{value.TensorCount}  {value.BytesWritten / 1048576.0,9:F1} MiB  {value.TensorName}";
            if (Console.IsOutputRedirected) Console.WriteLine(line);
            else Console.Write("\r" + line.PadRight(Math.Max(0, Console.WindowWidth - 1))[..Math.Max(1, Console.WindowWidth - 1)]);
        }
    }
}
