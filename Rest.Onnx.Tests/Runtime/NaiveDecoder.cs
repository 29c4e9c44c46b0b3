using Microsoft.ML.OnnxRuntime;
using Rest.Onnx.Acceptance;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Tests.Runtime;

/// <summary>
/// Oracle for the engine: greedy decoding that recomputes the whole sequence every token with an empty
/// KV cache and a causal mask (windowed for a sliding-window model), through plain InferenceSession.Run (no IOBinding, no cache reuse).
/// </summary>
internal static class NaiveDecoder
{
    public static int[] Greedy(string folder, int[] prompt, int newTokens)
    {
        var config = ModelManifest.Load(Path.Combine(folder, ModelManifest.FileName));
        using var session = new InferenceSession(Path.Combine(folder, config.ModelFile));
        var tokens = new List<int>(prompt);
        for (var step = 0; step < newTokens; step++) tokens.Add(GreedyAcceptance.ArgMax(LastLogits(session, config, [.. tokens])));
        return [.. tokens.Skip(prompt.Length)];
    }

    /// <summary>Logits after the last of <paramref name="tokens"/>, computed from scratch.</summary>
    public static float[] LastLogits(InferenceSession session, ModelManifest config, int[] tokens)
    {
        var n = tokens.Length;
        var mask = new float[n * n];
        var window = config.SlidingWindow ?? int.MaxValue; // Hugging Face: row r sees column c when r - c < window
        for (var r = 0; r < n; r++) for (var c = 0; c < n; c++) if (c > r || r - c >= window) mask[r * n + c] = -1e9f;
        var inputs = new Dictionary<string, OrtValue>
        {
            [config.Inputs.InputIds] = OrtValue.CreateTensorValueFromMemory(tokens.Select(t => (long)t).ToArray(), [1, n]),
            [config.Inputs.PositionIds] = OrtValue.CreateTensorValueFromMemory(Enumerable.Range(0, n).Select(i => (long)i).ToArray(), [1, n]),
            [config.Inputs.AttentionMask] = OrtValue.CreateTensorValueFromMemory(mask, [1, 1, n, n]),
        };
        for (var layer = 0; layer < config.NumLayers; layer++)
        {
            inputs[string.Format(null, config.Inputs.PastKey, layer)] = OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), [1, config.NumKvHeads, 0, config.HeadSize]);
            inputs[string.Format(null, config.Inputs.PastValue, layer)] = OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), [1, config.NumKvHeads, 0, config.HeadSize]);
        }
        try
        {
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, inputs, [config.Outputs.Logits]);
            return outputs[0].GetTensorDataAsSpan<float>().Slice((n - 1) * config.VocabSize, config.VocabSize).ToArray();
        }
        finally
        {
            foreach (var value in inputs.Values) value.Dispose();
        }
    }
}
