using System.CommandLine;
using Rest.Onnx.Export.Safetensors;
using Rest.Onnx.Export.Tiny;

namespace Rest.Onnx.Export.Tool.Commands;

/// <summary><c>rest-export tiny</c>: a random Llama checkpoint (config.json + model.safetensors) of any shape.</summary>
internal static class TinyCommand
{
    public static Command Create()
    {
        var defaults = new TinyLlamaOptions();
        var output = new Option<string>("--out") { Description = "checkpoint folder to write", HelpName = "FOLDER", Required = true };
        var layers = Size("--layers", "decoder layers", defaults.Layers);
        var hidden = Size("--hidden", "hidden size", defaults.HiddenSize);
        var heads = Size("--heads", "attention heads", defaults.Heads);
        var kvHeads = Size("--kv-heads", "key/value heads", defaults.KvHeads);
        var headSize = new Option<int?>("--head-size") { Description = "head size [default: hidden / heads]", HelpName = "N" }.InRange(1, int.MaxValue);
        var intermediate = Size("--intermediate", "MLP intermediate size", defaults.IntermediateSize);
        var vocab = Size("--vocab", "vocabulary size", defaults.VocabSize);
        var tied = Cli.Flag("--tied", "tie the input embedding and the output projection");
        var seed = new Option<ulong>("--seed") { Description = "random seed of the weights", HelpName = "N", DefaultValueFactory = _ => defaults.Seed };
        var maxPositions = Size("--max-positions", "longest sequence (max_position_embeddings)", defaults.MaxPositions);
        var ropeTheta = new Option<double>("--rope-theta") { Description = "RoPE base", HelpName = "X", DefaultValueFactory = _ => defaults.RopeTheta }.InRange(double.Epsilon, double.MaxValue);
        var tokenizer = new Option<string>("--tokenizer") { Description = "tokenizer file copied next to the weights", HelpName = "FILE" };
        var dtype = Cli.Choice("--weights-dtype", "weight type in model.safetensors", "f32",
            ("f32", SafetensorsDType.F32), ("f16", SafetensorsDType.F16), ("bf16", SafetensorsDType.BF16));
        var command = new Command("tiny", "write a random Llama checkpoint of the given shape (for tests and experiments)")
        {
            output, layers, hidden, heads, kvHeads, headSize, intermediate, vocab, tied, seed, maxPositions, ropeTheta, tokenizer, dtype.Option,
        };
        command.SetAction(p =>
        {
            var options = defaults with
            {
                Layers = p.GetValue(layers),
                HiddenSize = p.GetValue(hidden),
                Heads = p.GetValue(heads),
                KvHeads = p.GetValue(kvHeads),
                HeadSize = p.GetValue(headSize),
                IntermediateSize = p.GetValue(intermediate),
                VocabSize = p.GetValue(vocab),
                TiedEmbeddings = p.GetValue(tied),
                Seed = p.GetValue(seed),
                MaxPositions = p.GetValue(maxPositions),
                RopeTheta = p.GetValue(ropeTheta),
                TokenizerPath = p.GetValue(tokenizer),
                DType = dtype.Get(p),
            };
            var folder = p.GetRequiredValue(output);
            var started = System.Diagnostics.Stopwatch.StartNew();
            var config = TinyLlama.Write(folder, options);
            p.InvocationConfiguration.Output.WriteLine($"Wrote {config.ParameterCount:N0}-parameter random Llama to '{folder}' in {started.Elapsed.TotalSeconds:F1} s.");
            return Cli.Success;
        });
        return command;
    }

    private static Option<int> Size(string name, string description, int defaultValue)
        => new Option<int>(name) { Description = description, HelpName = "N", DefaultValueFactory = _ => defaultValue }.InRange(1, int.MaxValue);
}
