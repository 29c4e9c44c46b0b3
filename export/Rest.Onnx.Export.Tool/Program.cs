using Rest.Onnx.Export.Safetensors;
using Rest.Onnx.Export.Tiny;
using Rest.Onnx.Export.Tool;

const string Usage = """
    rest-export: Hugging Face Llama checkpoints to ONNX for Rest.Onnx.

      rest-export convert --in <hf-folder> --out <folder> [--dtype fp32|fp16|int4] [--variant opset23|gqa|genai|genai-gqa]
                          [--embed-weights] [--max-positions N] [--pad-token-id N]
                          [--block-size 32] [--accuracy-level 0|4]   (int4 only)
      rest-export tiny --out <folder> [--layers 2] [--hidden 64] [--heads 4] [--kv-heads 2] [--head-size N]
                       [--intermediate 128] [--vocab 256] [--tied] [--seed 1] [--max-positions 256]
                       [--rope-theta 10000] [--tokenizer <file>] [--weights-dtype f32|f16|bf16]
    """;

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}
try
{
    var verb = args[0];
    var rest = args[1..];
    return verb switch
    {
        "tiny" => Verbs.Tiny(new Arguments(rest, new HashSet<string> { "tied" })),
        "convert" => Verbs.Convert(new Arguments(rest, new HashSet<string> { "embed-weights" })),
        _ => throw new ArgumentException($"Unknown verb '{verb}'. Verbs: convert, tiny."),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine("rest-export: " + e.Message);
    Console.Error.WriteLine(Usage);
    return 2;
}
catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or KeyNotFoundException or UnauthorizedAccessException)
{
    Console.Error.WriteLine("rest-export: " + e.Message);
    return 1;
}

namespace Rest.Onnx.Export.Tool
{
    internal static partial class Verbs
    {
        public static int Tiny(Arguments a)
        {
            var options = new TinyLlamaOptions
            {
                Layers = a.Int("layers", 2),
                HiddenSize = a.Int("hidden", 64),
                Heads = a.Int("heads", 4),
                KvHeads = a.Int("kv-heads", 2),
                HeadSize = a.OptionalInt("head-size"),
                IntermediateSize = a.Int("intermediate", 128),
                VocabSize = a.Int("vocab", 256),
                TiedEmbeddings = a.Flag("tied"),
                Seed = (ulong)a.Int("seed", 1),
                MaxPositions = a.Int("max-positions", 256),
                RopeTheta = a.Double("rope-theta", 10000),
                TokenizerPath = a.String("tokenizer"),
                DType = (a.String("weights-dtype") ?? "f32") switch
                {
                    "f32" => SafetensorsDType.F32,
                    "f16" => SafetensorsDType.F16,
                    "bf16" => SafetensorsDType.BF16,
                    var other => throw new ArgumentException($"--weights-dtype must be f32, f16 or bf16, got '{other}'."),
                },
            };
            var output = a.Required("out");
            a.RejectUnused();
            var started = System.Diagnostics.Stopwatch.StartNew();
            var config = TinyLlama.Write(output, options);
            Console.WriteLine($"Wrote {config.ParameterCount:N0}-parameter random Llama to '{output}' in {started.Elapsed.TotalSeconds:F1} s.");
            return 0;
        }
    }
}
