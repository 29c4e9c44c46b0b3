using System.Diagnostics;
using Microsoft.ML.OnnxRuntimeGenAI;
using GenAiModel = Microsoft.ML.OnnxRuntimeGenAI.Model;
using GenAiGenerator = Microsoft.ML.OnnxRuntimeGenAI.Generator;

namespace Rest.Onnx.Bench.EndToEnd;

/// <summary>
/// The outside baseline: the same model, exported in the variant onnxruntime-genai accepts
/// (2D attention mask, genai_config.json), decoded greedily by Microsoft.ML.OnnxRuntimeGenAI (CPU).
/// Prompts go in as token ids, so no tokenizer files are needed on the GenAI side.
/// </summary>
internal sealed class GenAiBaseline : IDisposable
{
    private readonly GenAiModel _model;

    /// <param name="genAiModelFolder">An export with genai_config.json (variant genai or genai-gqa).</param>
    /// <param name="intraOpThreads">ONNX Runtime intra-op threads (0 = its default), pinned the same as our side's for a fair race.</param>
    public GenAiBaseline(string genAiModelFolder, int intraOpThreads = 0)
    {
        if (!File.Exists(Path.Combine(genAiModelFolder, "genai_config.json")))
            throw new FileNotFoundException($"No genai_config.json in '{genAiModelFolder}'; export with --variant genai.");
        using var config = new Config(genAiModelFolder);
        if (intraOpThreads > 0)
            config.Overlay("{\"model\":{\"decoder\":{\"session_options\":{\"intra_op_num_threads\":" +
                intraOpThreads.ToString(System.Globalization.CultureInfo.InvariantCulture) + ",\"inter_op_num_threads\":1}}}}");
        _model = new GenAiModel(config);
    }

    /// <summary>
    /// Greedy continuation with the generator set up outside the timed region: prefill = AppendTokens plus picking the first
    /// token (one forward pass over the prompt), decode = the remaining tokens (one forward pass each).
    /// </summary>
    /// <param name="clock">The clock to time with (default: wall time; the engine race can pass process CPU time).</param>
    public (int[] Tokens, TimeSpan Prefill, TimeSpan Decode) GenerateTimed(ReadOnlySpan<int> promptIds, int maxNewTokens, IReadOnlySet<int> stopIds,
        Func<TimeSpan>? clock = null)
    {
        clock ??= static () => Stopwatch.GetElapsedTime(0);
        using var parameters = new GeneratorParams(_model);
        parameters.SetSearchOption("max_length", promptIds.Length + maxNewTokens);
        parameters.SetSearchOption("do_sample", false);
        using var generator = new GenAiGenerator(_model, parameters);
        var produced = new List<int>(maxNewTokens);
        var start = clock();
        generator.AppendTokens(promptIds);
        var prefillEnd = start;
        while (produced.Count < maxNewTokens && !generator.IsDone())
        {
            generator.GenerateNextToken();
            var token = generator.GetNextTokens()[0];
            produced.Add(token);
            if (produced.Count == 1) prefillEnd = clock();
            if (stopIds.Contains(token)) break;
        }
        var end = clock();
        return ([.. produced], prefillEnd - start, end - prefillEnd);
    }

    /// <summary>Greedy continuation of <paramref name="promptIds"/>; returns the new tokens and the wall time of prefill plus decode.</summary>
    public (int[] Tokens, TimeSpan Elapsed) Generate(ReadOnlySpan<int> promptIds, int maxNewTokens, IReadOnlySet<int> stopIds)
    {
        // Generator set-up is outside the timed region (as on our side, where a generator is created once).
        var (tokens, prefill, decode) = GenerateTimed(promptIds, maxNewTokens, stopIds);
        return (tokens, prefill + decode);
    }

    public void Dispose() => _model.Dispose();
}
