namespace Rest.Onnx.Datastore.SuffixArrays;

/// <summary>
/// Builds the suffix array of a token sequence over an integer alphabet with SA-IS (Nong, Zhang and Chan,
/// 2009): linear time, memory = the caller's text and suffix array plus about n/4 bytes of type bits and
/// one bucket array per recursion level. No per-suffix allocation.
/// </summary>
/// <remarks>
/// The end of the text sorts before every token (a virtual sentinel), so a suffix that is a prefix of
/// another suffix comes first. Thread-safe: every call owns its scratch memory.
/// </remarks>
public static class SuffixArrayBuilder
{
    /// <summary>
    /// Writes the suffix array of <paramref name="text"/> into <paramref name="suffixArray"/>:
    /// <c>suffixArray[0..n-1]</c> holds the start positions of all suffixes in ascending order.
    /// </summary>
    /// <param name="text">Tokens, each in <c>[0, alphabetSize)</c>.</param>
    /// <param name="alphabetSize">Number of distinct token values allowed (the vocabulary size).</param>
    /// <param name="suffixArray">Output, exactly <c>text.Length</c> elements.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alphabetSize"/> is not positive.</exception>
    /// <exception cref="ArgumentException">The output length differs from the text length, or a token is outside the alphabet.</exception>
    public static void Build(ReadOnlySpan<int> text, int alphabetSize, Span<int> suffixArray)
        => BuildCore(text, alphabetSize, suffixArray);

    /// <summary>
    /// As <see cref="Build(ReadOnlySpan{int}, int, Span{int})"/> for 16-bit tokens (vocabularies up to 65,536):
    /// the text takes half the memory (about 6 bytes per token in all) and random reads touch half the bytes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alphabetSize"/> is not positive.</exception>
    /// <exception cref="ArgumentException">The output length differs from the text length, or a token is outside the alphabet.</exception>
    public static void Build(ReadOnlySpan<ushort> text, int alphabetSize, Span<int> suffixArray)
        => BuildCore(text, alphabetSize, suffixArray);

    private static unsafe void BuildCore<T>(ReadOnlySpan<T> text, int alphabetSize, Span<int> suffixArray)
        where T : unmanaged, System.Numerics.IBinaryInteger<T>
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(alphabetSize);
        if (suffixArray.Length != text.Length)
            throw new ArgumentException($"Suffix array needs {text.Length} elements, got {suffixArray.Length}.", nameof(suffixArray));
        var badIndex = IndexOfOutside(text, alphabetSize);
        if (badIndex >= 0)
            throw new ArgumentException($"Token {text[badIndex]} at position {badIndex} is outside the alphabet [0, {alphabetSize}).", nameof(text));
        if (text.Length == 0) return;
        if (text.Length == 1)
        {
            suffixArray[0] = 0;
            return;
        }
        // Bucket arrays are sized by the alphabet: bound it by what the text holds, not by the declared vocabulary
        // (a vocabulary of 2^31 with three ids must not allocate 8 GB). Ids far sparser than the text are first
        // replaced by their ranks, which keeps the order and so the suffix array.
        var max = 0;
        foreach (var t in text) max = Math.Max(max, int.CreateTruncating(t));
        var alphabet = Math.Min(alphabetSize, max + 1);
        if (alphabet > 2L * text.Length + 1024)
        {
            var ranked = Rank(text, out var distinct);
            fixed (int* s = ranked)
            fixed (int* sa = suffixArray)
            {
                Sais.Run(s, sa, ranked.Length, distinct, keepCounts: true);
            }
            return;
        }
        fixed (T* s = text)
        fixed (int* sa = suffixArray)
        {
            Sais.Run(s, sa, text.Length, alphabet, keepCounts: true);
        }
    }

    /// <summary>The text with each id replaced by its rank among the distinct ids (order-preserving).</summary>
    private static int[] Rank<T>(ReadOnlySpan<T> text, out int distinct)
        where T : unmanaged, System.Numerics.IBinaryInteger<T>
    {
        var values = new int[text.Length];
        for (var i = 0; i < text.Length; i++) values[i] = int.CreateTruncating(text[i]);
        var sorted = (int[])values.Clone();
        Array.Sort(sorted);
        distinct = 0;
        for (var i = 0; i < sorted.Length; i++)
            if (i == 0 || sorted[i] != sorted[i - 1]) sorted[distinct++] = sorted[i];
        var keys = sorted.AsSpan(0, distinct);
        for (var i = 0; i < values.Length; i++) values[i] = keys.BinarySearch(values[i]);
        return values;
    }

    /// <summary>Allocates and returns the suffix array of <paramref name="text"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alphabetSize"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A token is outside the alphabet.</exception>
    public static int[] Build(ReadOnlySpan<int> text, int alphabetSize)
    {
        var sa = GC.AllocateUninitializedArray<int>(text.Length);
        Build(text, alphabetSize, sa);
        return sa;
    }

    /// <summary>Index of the first token outside <c>[0, alphabetSize)</c>, or -1.</summary>
    internal static int IndexOfOutside<T>(ReadOnlySpan<T> text, int alphabetSize)
        where T : unmanaged, System.Numerics.IBinaryInteger<T>
    {
        // One unsigned compare catches negatives and too-large ids alike.
        var limit = (uint)alphabetSize;
        for (var i = 0; i < text.Length; i++)
            if (uint.CreateTruncating(text[i]) >= limit) return i;
        return -1;
    }
}
