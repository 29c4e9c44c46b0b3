using Rest.Onnx.Export.Llama;
using Rest.Onnx.Export.Safetensors;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Export.Tiny;

/// <summary>
/// Writes a deterministic random-weight Llama (or Mistral, Qwen2) checkpoint in Hugging Face layout (<c>config.json</c> +
/// <c>model.safetensors</c>), so tests and benchmarks need no downloaded model. Weights are scaled so that
/// activations stay near unit size through the layers and logits spread over several units: the argmax is
/// never a practical tie, which greedy equivalence tests rely on.
/// </summary>
public static class TinyLlama
{
    /// <summary>Most parameters a tiny checkpoint may have (about 1 GiB of float32 weights).</summary>
    public const long MaxParameters = 256L * 1024 * 1024;

    /// <summary>The config the options describe.</summary>
    /// <exception cref="InvalidDataException">The sizes are inconsistent (e.g. heads not a multiple of kv heads) or exceed <see cref="MaxParameters"/>.</exception>
    public static LlamaConfig Config(TinyLlamaOptions options)
    {
        var config = new LlamaConfig
        {
            Architecture = options.Architecture,
            SlidingWindow = options.SlidingWindow,
            HiddenSize = options.HiddenSize,
            IntermediateSize = options.IntermediateSize,
            NumLayers = options.Layers,
            NumHeads = options.Heads,
            NumKvHeads = options.KvHeads,
            HeadSize = options.HeadSize ?? (options.Heads > 0 ? options.HiddenSize / options.Heads : 0),
            VocabSize = options.VocabSize,
            MaxPositions = options.MaxPositions,
            RmsNormEps = options.RmsNormEps,
            RopeTheta = options.RopeTheta,
            RopeScaling = options.RopeScaling,
            TiedEmbeddings = options.TiedEmbeddings,
            BosTokenId = options.BosTokenId,
            EosTokenIds = [options.EosTokenId],
        };
        config.Validate("tiny model options");
        // The maker holds each tensor in memory and is meant for tests: refuse sizes that would take gigabytes.
        if (config.ParameterCount > MaxParameters)
            throw new InvalidDataException(
                $"tiny model options: {config.ParameterCount:N0} parameters (vocab {config.VocabSize}, hidden {config.HiddenSize}, intermediate {config.IntermediateSize}, layers {config.NumLayers}) exceed the tiny maker's limit of {MaxParameters:N0}.");
        return config;
    }

    /// <summary>Writes the checkpoint into <paramref name="folder"/> (created if needed) and returns its config.</summary>
    /// <exception cref="InvalidDataException">The sizes are inconsistent.</exception>
    /// <exception cref="FileNotFoundException"><see cref="TinyLlamaOptions.TokenizerPath"/> does not exist.</exception>
    public static LlamaConfig Write(string folder, TinyLlamaOptions options)
    {
        var config = Config(options);
        if (options.TokenizerPath is { } tok && !File.Exists(tok))
            throw new FileNotFoundException($"Tokenizer file '{tok}' does not exist.", tok);
        Directory.CreateDirectory(folder);
        config.Save(Path.Combine(folder, "config.json"));

        long h = config.HiddenSize, q = (long)config.NumHeads * config.HeadSize, kv = (long)config.NumKvHeads * config.HeadSize;
        long inter = config.IntermediateSize, vocab = config.VocabSize;
        var seed = options.Seed;
        SafetensorsEntry Linear(string name, long outDim, long inDim, double gain = 1)
            => new(name, [outDim, inDim], () => Uniform(seed, name, outDim * inDim, gain / Math.Sqrt(inDim), 0));
        SafetensorsEntry Bias(string name, long size)
            => new(name, [size], () => Uniform(seed, name, size, 0.5, 0));
        SafetensorsEntry Norm(string name)
            => new(name, [h], () => Uniform(seed, name, h, 0.1, 1));

        var tensors = new List<SafetensorsEntry>
        {
            new(LlamaTensorNames.Embedding, [vocab, h], () => Uniform(seed, LlamaTensorNames.Embedding, vocab * h, 1, 0)),
        };
        for (int l = 0; l < config.NumLayers; l++)
        {
            tensors.Add(Norm(LlamaTensorNames.InputNorm(l)));
            tensors.Add(Linear(LlamaTensorNames.QProj(l), q, h));
            tensors.Add(Linear(LlamaTensorNames.KProj(l), kv, h));
            tensors.Add(Linear(LlamaTensorNames.VProj(l), kv, h));
            if (config.QkvBias)
            {
                // Biases of about half the projections' output size: large enough that a graph without them fails the tests.
                tensors.Add(Bias(LlamaTensorNames.QBias(l), q));
                tensors.Add(Bias(LlamaTensorNames.KBias(l), kv));
                tensors.Add(Bias(LlamaTensorNames.VBias(l), kv));
            }
            tensors.Add(Linear(LlamaTensorNames.OProj(l), h, q));
            tensors.Add(Norm(LlamaTensorNames.PostAttentionNorm(l)));
            tensors.Add(Linear(LlamaTensorNames.GateProj(l), inter, h));
            tensors.Add(Linear(LlamaTensorNames.UpProj(l), inter, h));
            tensors.Add(Linear(LlamaTensorNames.DownProj(l), h, inter));
        }
        tensors.Add(Norm(LlamaTensorNames.FinalNorm));
        // Logit spread of about 3 units: clear winners, yet not a one-hot softmax.
        if (!config.TiedEmbeddings) tensors.Add(Linear(LlamaTensorNames.LmHead, vocab, h, gain: 3));

        SafetensorsWriter.Write(Path.Combine(folder, SafetensorsCheckpoint.SingleFileName), tensors, options.DType,
            new Dictionary<string, string> { ["format"] = "pt", ["rest-onnx"] = "tiny random weights, seed " + seed });
        if (options.TokenizerPath is { } tokenizer)
            File.Copy(tokenizer, Path.Combine(folder, Path.GetFileName(tokenizer)), overwrite: true);
        return config;
    }

    /// <summary>Values uniform in [-a, a] with standard deviation <paramref name="std"/>, plus <paramref name="offset"/>;
    /// the stream depends only on the seed and the tensor name, not on write order.</summary>
    private static float[] Uniform(ulong seed, string name, long count, double std, double offset)
    {
        ulong state = seed * 0x9E3779B97F4A7C15UL;
        foreach (var c in name) state = (state ^ c) * 0x100000001B3UL;
        var values = new float[checked((int)count)];
        double a = std * Math.Sqrt(3);
        for (int i = 0; i < values.Length; i++)
        {
            // SplitMix64: tiny, fast, stable across runtimes (unlike System.Random's unseeded algorithm choices).
            ulong z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            double u = (z >> 11) * (1.0 / (1UL << 53));
            values[i] = (float)(offset + a * (2 * u - 1));
        }
        return values;
    }
}
