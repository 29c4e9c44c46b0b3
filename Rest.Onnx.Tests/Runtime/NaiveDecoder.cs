using Microsoft.ML.OnnxRuntime;
using Rest.Onnx.Acceptance;

namespace Rest.Onnx.Tests.Runtime;

/// <summary>
/// Oracle for the engine: greedy decoding that recomputes the whole sequence every token with an empty
/// KV cache and a causal mask, through plain InferenceSession.Run (no IOBinding, no cache reuse).
/// </summary>
internal static class NaiveDecoder
{
    public static int[] Greedy(string folder, int[] prompt, int newTokens)
    {
        var config = ModelConfig.Load(Path.Combine(folder, ModelConfig.FileName));
        using var session = new InferenceSession(Path.Combine(folder, config.ModelFile));
        var tokens = new List<int>(prompt);
        for (var step = 0; step < newTokens; step++)
        {
            var n = tokens.Count;
            var mask = new float[n * n];
            for (var r = 0; r < n; r++) for (var c = r + 1; c < n; c++) mask[r * n + c] = -1e9f;
            var inputs = new Dictionary<string, OrtValue>
            {
                [config.InputIdsName] = OrtValue.CreateTensorValueFromMemory(tokens.Select(t => (long)t).ToArray(), [1, n]),
                [config.PositionIdsName] = OrtValue.CreateTensorValueFromMemory(Enumerable.Range(0, n).Select(i => (long)i).ToArray(), [1, n]),
                [config.AttentionMaskName] = OrtValue.CreateTensorValueFromMemory(mask, [1, 1, n, n]),
            };
            for (var layer = 0; layer < config.NumLayers; layer++)
            {
                inputs[string.Format(null, config.PastKeyPattern, layer)] = OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), [1, config.NumKvHeads, 0, config.HeadSize]);
                inputs[string.Format(null, config.PastValuePattern, layer)] = OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), [1, config.NumKvHeads, 0, config.HeadSize]);
            }
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, inputs, [config.LogitsName]);
            var logits = outputs[0].GetTensorDataAsSpan<float>();
            tokens.Add(GreedyAcceptance.ArgMax(logits.Slice((n - 1) * config.VocabSize, config.VocabSize)));
            foreach (var value in inputs.Values) value.Dispose();
        }
        return [.. tokens.Skip(prompt.Length)];
    }
}
