namespace Rest.Onnx;

/// <summary>The outcome of a blocking <see cref="Generator.Generate(ReadOnlySpan{int}, GenerationOptions, CancellationToken)"/> call.</summary>
public sealed class GenerationResult
{
    internal GenerationResult(int[] tokens, string? text, StopReason stopReason, GenerationStatistics statistics)
    {
        Tokens = tokens;
        Text = text;
        StopReason = stopReason;
        Statistics = statistics;
    }

    /// <summary>Generated token ids (without the prompt and without a stop token).</summary>
    public IReadOnlyList<int> Tokens { get; }

    /// <summary>Generated text, or null when the model has no tokenizer.</summary>
    public string? Text { get; }

    /// <summary>Why the run ended.</summary>
    public StopReason StopReason { get; }

    /// <summary>Counts and timings of the run.</summary>
    public GenerationStatistics Statistics { get; }
}
