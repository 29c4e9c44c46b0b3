namespace Rest.Onnx;

/// <summary>Shapes the distribution that <see cref="DecodingStrategy.Sampling"/> draws from: temperature, then top-k, then top-p.</summary>
/// <remarks>Immutable; configure with <c>with</c> expressions. The defaults: temperature 1, no top-k or top-p cut.</remarks>
public sealed record SamplingOptions
{

    /// <summary>Divides the logits; must be positive.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Keeps only the k most likely tokens; 0 keeps all.</summary>
    public int TopK { get; init; }

    /// <summary>Keeps the smallest set of most likely tokens whose probability reaches p; 1 keeps all.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Random seed; null draws a fresh seed per run.</summary>
    public int? Seed { get; init; }

    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    internal void Validate()
    {
        if (!(Temperature > 0) || float.IsInfinity(Temperature)) throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Must be positive and finite (use DecodingStrategy.Greedy for temperature 0).");
        if (TopK < 0) throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "Must be 0 (off) or positive.");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "Must be within (0, 1].");
    }
}
