namespace Rest.Onnx.Datastore.Reading;

/// <summary>
/// A half-open interval [<see cref="Start"/>, <see cref="End"/>) of one shard's suffix array: the suffixes
/// that start with a searched prefix. Empty when <see cref="Count"/> is 0.
/// </summary>
/// <param name="Shard">Shard index.</param>
/// <param name="Start">First suffix-array index in the interval.</param>
/// <param name="End">One past the last index.</param>
public readonly record struct SuffixRange(int Shard, int Start, int End)
{
    /// <summary>Number of occurrences.</summary>
    public int Count => End - Start;

    /// <summary>True when nothing matched.</summary>
    public bool IsEmpty => End <= Start;
}
