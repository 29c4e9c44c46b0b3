using Rest.Onnx.Drafting.Ranking;

namespace Rest.Onnx;

/// <summary>
/// A bounded, in-memory store of recent token sequences (a model's outputs, optionally its prompts) to draft
/// from, as SuffixDecoding's global tree does: when new text repeats the structure of earlier text, the
/// continuations of earlier matches are good drafts. Holds at most <see cref="Capacity"/> tokens in a ring (the
/// oldest dropped first), each appended sequence followed by a separator so no match crosses two. Lookup is by
/// hash chains over token pairs (as LZ77 compressors find matches): the chain of the context's last two tokens
/// is walked from the newest occurrence back, each candidate extended backwards to the match length.
/// Thread-safe: appends and lookups take a lock, held only for the walk and the copy. Hand-written because no
/// served library offers a bounded, evicting n-gram index over int tokens.
/// </summary>
public sealed class TokenHistory
{
    private const int Separator = -1;
    private const int HashBits = 16;
    private const int MaxChain = 256;
    private readonly object _lock = new();
    private readonly int[] _tokens;
    private readonly long[] _previous;          // previous position with the same pair hash, -1 none
    private readonly long[] _heads = new long[1 << HashBits];
    private long _written;

    /// <summary>Creates an empty store of at most <paramref name="capacity"/> tokens.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is below 16.</exception>
    public TokenHistory(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 16);
        _tokens = new int[capacity];
        _previous = new long[capacity];
        Array.Fill(_heads, -1);
    }

    /// <summary>Most tokens held (separators included).</summary>
    public int Capacity => _tokens.Length;

    /// <summary>Tokens currently held (separators included).</summary>
    public int Count
    {
        get
        {
            lock (_lock) return (int)Math.Min(_written, _tokens.Length);
        }
    }

    /// <summary>Bytes of memory the store holds (fixed at construction).</summary>
    public long MemoryBytes => (long)_tokens.Length * (sizeof(int) + sizeof(long)) + _heads.Length * sizeof(long);

    /// <summary>Forgets everything held.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _written = 0;
            Array.Fill(_heads, -1);
        }
    }

    /// <summary>Appends a sequence (followed by a separator), dropping the oldest tokens beyond the capacity.</summary>
    /// <exception cref="ArgumentException">A token is negative.</exception>
    public void Append(ReadOnlySpan<int> tokens)
    {
        foreach (var t in tokens)
            if (t < 0) throw new ArgumentException($"Token ids must not be negative; got {t}.", nameof(tokens));
        if (tokens.IsEmpty) return;
        // A sequence longer than the store keeps only its tail.
        if (tokens.Length >= _tokens.Length) tokens = tokens[^(_tokens.Length - 1)..];
        lock (_lock)
        {
            foreach (var t in tokens) Put(t);
            Put(Separator);
        }
    }

    private void Put(int token)
    {
        var p = _written++;
        var slot = (int)(p % _tokens.Length);
        _tokens[slot] = token;
        _previous[slot] = -1;
        if (token == Separator || p == 0) return;
        var before = _tokens[(int)((p - 1) % _tokens.Length)];
        if (before == Separator) return;
        var h = Hash(before, token);
        _previous[slot] = _heads[h];
        _heads[h] = p;
    }

    private static int Hash(int a, int b) => (int)((((uint)a * 0x9E3779B1u) ^ ((uint)b * 0x85EBCA77u)) >> (32 - HashBits));

    private int At(long p) => _tokens[(int)(p % _tokens.Length)];

    /// <summary>
    /// Finds the longest suffix of <paramref name="context"/> (up to <paramref name="maxLength"/> tokens, at
    /// least 2) that the store holds, and adds the continuations (up to <paramref name="continuationLength"/>
    /// tokens) of its newest occurrences, at most <paramref name="maxOccurrences"/>, to <paramref name="trie"/>.
    /// Returns the match length, 0 when none.
    /// </summary>
    internal int AddContinuations(ReadOnlySpan<int> context, int minLength, int maxLength, int maxOccurrences, int continuationLength, DraftTrieBuilder trie,
        Span<long> ends, Span<int> lengths, Span<int> scratch)
    {
        var n = context.Length;
        if (n < 2 || maxLength < 2) return 0;
        var a = context[n - 2];
        var b = context[n - 1];
        lock (_lock)
        {
            var oldest = Math.Max(0, _written - _tokens.Length);
            var found = 0;
            var best = 0;
            for (var p = _heads[Hash(a, b)]; p >= oldest && p - 1 >= oldest && found < ends.Length; p = _previous[(int)(p % _tokens.Length)])
            {
                // Only matches with a continuation count; then extend backwards from p (the match's last token).
                if (p + 1 >= _written || At(p + 1) == Separator) continue;
                var m = 0;
                var limit = Math.Min(maxLength, n);
                while (m < limit && p - m >= oldest && At(p - m) == context[n - 1 - m]) m++;
                if (m >= 2)
                {
                    ends[found] = p;
                    lengths[found] = m;
                    found++;
                    if (m > best) best = m;
                }
                if (found >= MaxChain) break;
            }
            if (best < Math.Max(2, minLength)) return 0;
            var occurrences = 0;
            for (var i = 0; i < found && occurrences < maxOccurrences; i++)
            {
                if (lengths[i] < best) continue;
                var length = 0;
                for (var q = ends[i] + 1; q < _written && length < continuationLength && length < scratch.Length; q++)
                {
                    var t = At(q);
                    if (t == Separator) break;
                    scratch[length++] = t;
                }
                if (length == 0) continue;
                trie.Add(scratch[..length]);
                occurrences++;
            }
            return occurrences > 0 ? best : 0;
        }
    }

    /// <summary>Chain positions a lookup visits at most.</summary>
    internal static int MaxCandidates => MaxChain;
}
