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

    public GenAiBaseline(string genAiModelFolder)
    {
        if (!File.Exists(Path.Combine(genAiModelFolder, "genai_config.json")))
            throw new FileNotFoundException($"No genai_config.json in '{genAiModelFolder}'; export with --variant genai.");
        _model = new GenAiModel(genAiModelFolder);
    }

    /// <summary>Greedy continuation of <paramref name="promptIds"/>; returns the new tokens and the wall time.</summary>
    public (int[] Tokens, TimeSpan Elapsed) Generate(ReadOnlySpan<int> promptIds, int maxNewTokens, IReadOnlySet<int> stopIds)
    {
        using var parameters = new GeneratorParams(_model);
        parameters.SetSearchOption("max_length", promptIds.Length + maxNewTokens);
        parameters.SetSearchOption("do_sample", false);
        var stopwatch = Stopwatch.StartNew();
        using var generator = new GenAiGenerator(_model, parameters);
        generator.AppendTokens(promptIds);
        var produced = new List<int>(maxNewTokens);
        while (produced.Count < maxNewTokens && !generator.IsDone())
        {
            generator.GenerateNextToken();
            var token = generator.GetNextTokens()[0];
            produced.Add(token);
            if (stopIds.Contains(token)) break;
        }
        stopwatch.Stop();
        return ([.. produced], stopwatch.Elapsed);
    }

    public void Dispose() => _model.Dispose();
}
