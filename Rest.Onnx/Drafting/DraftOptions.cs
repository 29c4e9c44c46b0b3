namespace Rest.Onnx;

/// <summary>Draft parameters, with the REST reference's defaults.</summary>
public readonly record struct DraftOptions
{
    /// <summary>Creates the reference defaults: suffixes 16 down to 2, k 5000, continuation 10, budget 64.</summary>
    public DraftOptions() { }

    /// <summary>Longest context suffix tried first.</summary>
    public int MaxSuffixLength { get; init; } = 16;

    /// <summary>Shortest context suffix tried before giving up.</summary>
    public int MinSuffixLength { get; init; } = 2;

    /// <summary>Most occurrences whose continuations are counted.</summary>
    public int MaxOccurrences { get; init; } = 5000;

    /// <summary>Tokens taken after each occurrence.</summary>
    public int ContinuationLength { get; init; } = 10;

    /// <summary>Most draft nodes verified per step (the tree's size; the step runs budget + 1 rows).</summary>
    public int Budget { get; init; } = 64;

    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    internal void Validate()
    {
        if (MinSuffixLength < 1) throw new ArgumentOutOfRangeException(nameof(MinSuffixLength), MinSuffixLength, "Must be at least 1.");
        if (MaxSuffixLength < MinSuffixLength) throw new ArgumentOutOfRangeException(nameof(MaxSuffixLength), MaxSuffixLength, $"Must be at least MinSuffixLength ({MinSuffixLength}).");
        if (MaxOccurrences < 1) throw new ArgumentOutOfRangeException(nameof(MaxOccurrences), MaxOccurrences, "Must be at least 1.");
        if (ContinuationLength < 1) throw new ArgumentOutOfRangeException(nameof(ContinuationLength), ContinuationLength, "Must be at least 1.");
        if (Budget is < 0 or > 1024) throw new ArgumentOutOfRangeException(nameof(Budget), Budget, "Must be within 0..1024.");
    }
}
