namespace Rest.Onnx;

/// <summary>How the next token is chosen from the model's distribution.</summary>
public enum DecodingStrategy
{
    /// <summary>Always the most likely token (ties: the lowest id). Speculative output equals the baseline token for token.</summary>
    Greedy,

    /// <summary>Random draws from the distribution shaped by <see cref="SamplingOptions"/>; speculative output has the baseline's distribution.</summary>
    Sampling,
}
