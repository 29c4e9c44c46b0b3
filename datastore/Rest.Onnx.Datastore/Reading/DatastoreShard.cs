using System.Numerics;
using System.Runtime.CompilerServices;

namespace Rest.Onnx.Datastore.Reading;

/// <summary>
/// One shard of a memory-mapped datastore: a token array and its suffix array. Read-only and thread-safe;
/// valid only while its <see cref="DatastoreReader"/> is not disposed.
/// </summary>
/// <remarks>
/// Trust model: the reader checks section bounds at open but not (unless asked) section checksums, so every
/// suffix-array value is bounds-checked where it is read (<see cref="Position"/>): a corrupt entry outside
/// [0, TokenCount] reads as TokenCount, the empty suffix. A corrupt store can then only yield wrong or missing
/// drafts, which verification rejects; it never reads outside the mapped sections.
/// </remarks>
public sealed unsafe class DatastoreShard
{
    private readonly byte* _tokens;
    private readonly int* _suffixArray;
    private readonly int _width;

    internal DatastoreShard(int index, byte* tokens, int* suffixArray, int tokenCount, int width, long firstToken, long documents)
    {
        Index = index;
        _tokens = tokens;
        _suffixArray = suffixArray;
        TokenCount = tokenCount;
        _width = width;
        FirstToken = firstToken;
        DocumentCount = documents;
    }

    /// <summary>Index of this shard in the file.</summary>
    public int Index { get; }

    /// <summary>Tokens in this shard (separators included).</summary>
    public int TokenCount { get; }

    /// <summary>Position of this shard's first token in the whole corpus.</summary>
    public long FirstToken { get; }

    /// <summary>Documents (or document pieces) in this shard.</summary>
    public long DocumentCount { get; }

    /// <summary>The token at <paramref name="position"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The position is outside the shard.</exception>
    public int TokenAt(int position)
    {
        if ((uint)position >= (uint)TokenCount) throw new ArgumentOutOfRangeException(nameof(position), position, $"Shard {Index} has {TokenCount} tokens.");
        return _width == 2 ? ((ushort*)_tokens)[position] : ((int*)_tokens)[position];
    }

    /// <summary>
    /// The start position of the suffix at <paramref name="index"/> of the suffix array; a corrupt stored value
    /// outside [0, <see cref="TokenCount"/>] reads as <see cref="TokenCount"/> (the empty suffix).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside the shard.</exception>
    public int SuffixAt(int index)
    {
        if ((uint)index >= (uint)TokenCount) throw new ArgumentOutOfRangeException(nameof(index), index, $"Shard {Index} has {TokenCount} suffixes.");
        return Position(_suffixArray, index, TokenCount);
    }

    /// <summary>
    /// The suffix-array value at <paramref name="index"/>, clamped into [0, n]: the file is not trusted, and one
    /// unsigned compare per read is what keeps a flipped byte from becoming an out-of-range access.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Position(int* suffixArray, int index, int n)
    {
        var p = suffixArray[index];
        return (uint)p <= (uint)n ? p : n;
    }

    /// <summary>Copies up to <c>destination.Length</c> tokens from <paramref name="position"/>; returns how many (fewer at the shard's end).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The position is outside the shard.</exception>
    public int CopyTokens(int position, Span<int> destination)
    {
        if ((uint)position > (uint)TokenCount) throw new ArgumentOutOfRangeException(nameof(position), position, $"Shard {Index} has {TokenCount} tokens.");
        var n = Math.Min(destination.Length, TokenCount - position);
        if (_width == 2)
        {
            var p = (ushort*)_tokens + position;
            for (var i = 0; i < n; i++) destination[i] = p[i];
        }
        else
        {
            new ReadOnlySpan<int>((int*)_tokens + position, n).CopyTo(destination);
        }
        return n;
    }

    /// <summary>The interval of suffixes that start with <paramref name="prefix"/> (lower and upper bound by binary search).</summary>
    public SuffixRange FindRange(ReadOnlySpan<int> prefix)
    {
        var (start, end) = _width == 2
            ? Bounds((ushort*)_tokens, prefix, 0, TokenCount)
            : Bounds((uint*)_tokens, prefix, 0, TokenCount);
        return new SuffixRange(Index, start, end);
    }

    /// <summary>
    /// Narrows <paramref name="range"/> (whose suffixes share their first <paramref name="offset"/> tokens) to
    /// the suffixes whose token at <paramref name="offset"/> is <paramref name="token"/>.
    /// </summary>
    internal SuffixRange Narrow(SuffixRange range, int offset, int token)
    {
        var (start, end) = _width == 2
            ? NarrowCore((ushort*)_tokens, range.Start, range.End, offset, token)
            : NarrowCore((uint*)_tokens, range.Start, range.End, offset, token);
        return new SuffixRange(Index, start, end);
    }

    /// <summary>The token at <paramref name="offset"/> after the suffix at SA index <paramref name="index"/>, or -1 past the shard's end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int TokenAfter(int index, int offset)
    {
        var p = (long)Position(_suffixArray, index, TokenCount) + offset;
        if (p >= TokenCount) return -1;
        return _width == 2 ? ((ushort*)_tokens)[p] : ((int*)_tokens)[p];
    }

    /// <summary>
    /// Hot-path continuation read for drafting (no argument checks): up to <c>destination.Length</c> tokens
    /// from <paramref name="skip"/> after the suffix at <paramref name="index"/>, stopping before
    /// <paramref name="separator"/> (-1 for none) and at the shard's end.
    /// </summary>
    internal int ReadContinuation(int index, int skip, Span<int> destination, int separator)
    {
        var start = (long)Position(_suffixArray, index, TokenCount) + skip;
        var n = (int)Math.Min(destination.Length, TokenCount - start);
        if (n <= 0) return 0;
        if (_width == 2)
        {
            var p = (ushort*)_tokens + start;
            for (var i = 0; i < n; i++)
            {
                int t = p[i];
                if (t == separator) return i;
                destination[i] = t;
            }
        }
        else
        {
            var p = (int*)_tokens + start;
            for (var i = 0; i < n; i++)
            {
                var t = p[i];
                if (t == separator) return i;
                destination[i] = t;
            }
        }
        return n;
    }

    private (int Start, int End) Bounds<T>(T* tokens, ReadOnlySpan<int> prefix, int lo, int hi)
        where T : unmanaged, IBinaryInteger<T>
    {
        var sa = _suffixArray;
        var n = TokenCount;
        // Lower bound: first suffix not smaller than the prefix.
        int a = lo, b = hi;
        while (a < b)
        {
            var mid = (int)((uint)(a + b) >> 1);
            if (Compare(tokens, n, Position(sa, mid, n), prefix) < 0) a = mid + 1; else b = mid;
        }
        var start = a;
        // Upper bound: first suffix greater than the prefix (one that does not start with it).
        b = hi;
        while (a < b)
        {
            var mid = (int)((uint)(a + b) >> 1);
            if (Compare(tokens, n, Position(sa, mid, n), prefix) <= 0) a = mid + 1; else b = mid;
        }
        return (start, a);
    }

    /// <summary>Compares the suffix at <paramref name="position"/>, cut to the prefix's length, with the prefix; a shorter suffix sorts first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Compare<T>(T* tokens, int n, int position, ReadOnlySpan<int> prefix)
        where T : unmanaged, IBinaryInteger<T>
    {
        var available = n - position;
        var length = Math.Min(available, prefix.Length);
        var p = tokens + position;
        for (var i = 0; i < length; i++)
        {
            var a = int.CreateTruncating(p[i]);
            var b = prefix[i];
            if (a != b) return a < b ? -1 : 1;
        }
        return available < prefix.Length ? -1 : 0;
    }

    private (int Start, int End) NarrowCore<T>(T* tokens, int lo, int hi, int offset, int token)
        where T : unmanaged, IBinaryInteger<T>
    {
        var sa = _suffixArray;
        var n = TokenCount;
        int a = lo, b = hi;
        while (a < b)
        {
            var mid = (int)((uint)(a + b) >> 1);
            if (At(tokens, n, Position(sa, mid, n), offset) < token) a = mid + 1; else b = mid;
        }
        var start = a;
        b = hi;
        while (a < b)
        {
            var mid = (int)((uint)(a + b) >> 1);
            if (At(tokens, n, Position(sa, mid, n), offset) <= token) a = mid + 1; else b = mid;
        }
        return (start, a);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int At<T>(T* tokens, int n, int position, int offset)
        where T : unmanaged, IBinaryInteger<T>
    {
        var p = (long)position + offset;
        return p >= n ? -1 : int.CreateTruncating(tokens[p]);
    }
}
