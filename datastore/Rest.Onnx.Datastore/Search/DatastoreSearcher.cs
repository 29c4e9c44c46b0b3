using Rest.Onnx.Datastore.Reading;
using Rest.Onnx.Drafting.Ranking;

namespace Rest.Onnx.Datastore.Search;

/// <summary>
/// Drafts from a datastore: longest context-suffix match, continuations, and the top-node draft tree.
/// One searcher per thread over a shared <see cref="DatastoreReader"/>; it owns reusable scratch buffers,
/// so a draft step allocates nothing once warm. Not thread-safe itself.
/// </summary>
public sealed class DatastoreSearcher
{
    private readonly DatastoreReader _reader;
    private readonly IReadOnlyList<DatastoreShard> _shards;
    private readonly SuffixRange[] _matchRanges;
    private readonly SuffixRange[] _probeRanges;
    private readonly DraftTrieBuilder _trie = new();
    private readonly TopNodeSelector _selector = new();
    private readonly int[] _continuation;
    private SuffixRange[] _nodeRanges;
    private int[] _childTokens = new int[256];

    /// <summary>Creates a searcher with <see cref="DraftOptions.Default"/>.</summary>
    public DatastoreSearcher(DatastoreReader reader) : this(reader, DraftOptions.Default) { }

    /// <summary>Creates a searcher.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public DatastoreSearcher(DatastoreReader reader, DraftOptions options)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _reader = reader;
        _shards = reader.Shards;
        Options = options;
        _matchRanges = new SuffixRange[_shards.Count];
        _probeRanges = new SuffixRange[_shards.Count];
        _continuation = new int[options.ContinuationLength];
        _nodeRanges = new SuffixRange[Math.Max(1, options.CandidateBudget) * _shards.Count];
    }

    /// <summary>The options of every draft step.</summary>
    public DraftOptions Options { get; }

    /// <summary>The datastore searched.</summary>
    public DatastoreReader Reader => _reader;

    /// <summary>Length of the last match (0 when none).</summary>
    public int MatchLength { get; private set; }

    /// <summary>Occurrences of the last match over all shards.</summary>
    public long MatchOccurrences { get; private set; }

    /// <summary>The last match's suffix-array interval in each shard; valid until the next call.</summary>
    public ReadOnlySpan<SuffixRange> MatchRanges => _matchRanges;

    /// <summary>
    /// Finds the longest context suffix, from <see cref="DraftOptions.MaxSuffixLength"/> down to
    /// <see cref="DraftOptions.MinSuffixLength"/> tokens, that occurs in the datastore, and records its
    /// intervals in <see cref="MatchRanges"/>. Returns its length, 0 when no suffix matches.
    /// </summary>
    /// <remarks>
    /// Occurrence is monotone in the length: where the last L tokens occur at position p, the last L - 1 occur at
    /// p + 1 of the same shard. So the longest length is found by binary search, about 1 + log2(15) suffix-array
    /// searches instead of one per length tried (the reference's scan from 16 down; typical code matches are
    /// 4-8 tokens long, so the scan paid 8-12 failed searches a step).
    /// </remarks>
    public int FindLongestMatch(ReadOnlySpan<int> context)
    {
        var longest = Math.Min(Options.MaxSuffixLength, context.Length);
        var shortest = Options.MinSuffixLength;
        if (longest < shortest || _reader.FindRanges(context[^shortest..], _matchRanges) == 0)
        {
            _matchRanges.AsSpan().Clear();
            MatchLength = 0;
            MatchOccurrences = 0;
            return 0;
        }
        // Invariant: the last `found` tokens occur (their ranges in _matchRanges); none longer than `absent` - 1 is known to.
        var found = shortest;
        var absent = longest + 1;
        while (absent - found > 1)
        {
            var length = found + (absent - found + 1) / 2;
            if (_reader.FindRanges(context[^length..], _probeRanges) > 0)
            {
                found = length;
                _probeRanges.AsSpan().CopyTo(_matchRanges);
            }
            else
            {
                absent = length;
            }
        }
        MatchLength = found;
        long total = 0;
        foreach (var range in _matchRanges) total += range.Count;
        MatchOccurrences = total;
        return found;
    }

    /// <summary>
    /// One full draft step: longest match, continuations and the draft tree, written breadth-first into
    /// <paramref name="destination"/> (cleared first; at most <see cref="DraftOptions.Budget"/> and its capacity
    /// nodes). The tree hangs under the context's last token. Returns the matched suffix length, 0 (and an
    /// empty tree) when nothing matched.
    /// </summary>
    public int BuildDraft(ReadOnlySpan<int> context, DraftTree destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        destination.Clear();
        var length = FindLongestMatch(context);
        if (length == 0) return 0;
        var budget = Math.Min(Options.CandidateBudget, destination.Capacity);
        if (Options.Mode == DraftMode.Exact) DraftExact(length, budget, destination);
        else DraftSampled(length, budget, destination);
        return length;
    }

    private void DraftSampled(int matchLength, int budget, DraftTree destination)
    {
        var trie = _trie;
        trie.Clear();
        var remaining = Options.MaxOccurrences;
        var continuation = _continuation.AsSpan();
        var separator = _reader.Separator;
        var firstShard = true;
        for (var s = 0; s < _matchRanges.Length && remaining > 0; s++)
        {
            var range = _matchRanges[s];
            var shard = _shards[s];
            var end = range.Start + Math.Min(range.Count, remaining);
            if (range.IsEmpty) continue;
            for (var i = range.Start; i < end; i++)
            {
                var n = shard.ReadContinuation(i, matchLength, continuation, separator);
                if (n == 0) continue;
                // The first shard's occurrences arrive sorted by continuation; later shards need lookups.
                if (firstShard) trie.AddSorted(continuation[..n]);
                else trie.Add(continuation[..n]);
            }
            remaining -= end - range.Start;
            firstShard = false;
        }
        trie.EmitTopNodes(budget, destination, Options.MinShare);
    }

    private void DraftExact(int matchLength, int budget, DraftTree destination)
    {
        var shardCount = _shards.Count;
        if (_nodeRanges.Length < budget * shardCount) _nodeRanges = new SuffixRange[budget * shardCount];
        var selector = _selector;
        // Shares are of every occurrence here (occurrences at a separator count too: a slight underestimate).
        selector.Reset(budget, DraftOptions.MinCount(Options.MinShare, MatchOccurrences));
        Expand(-1, 0, _matchRanges, matchLength);
        while (selector.TryPop(out var candidate, out var rank))
        {
            // The node's interval in each shard: its parent's, narrowed to its token.
            var parentRanges = candidate.ParentRank < 0
                ? _matchRanges.AsSpan()
                : _nodeRanges.AsSpan(candidate.ParentRank * shardCount, shardCount);
            var ranges = _nodeRanges.AsSpan(rank * shardCount, shardCount);
            var offset = matchLength + candidate.Depth - 1;
            for (var s = 0; s < shardCount; s++)
                ranges[s] = parentRanges[s].IsEmpty ? parentRanges[s] : _shards[s].Narrow(parentRanges[s], offset, candidate.Token);
            if (candidate.Depth < Options.ContinuationLength)
                Expand(rank, candidate.Depth, ranges, matchLength);
        }
        selector.Emit(destination, MatchOccurrences);
    }

    /// <summary>Pushes the children of a node (the root when <paramref name="rank"/> is -1) with their exact counts.</summary>
    private void Expand(int rank, int depth, ReadOnlySpan<SuffixRange> ranges, int matchLength)
    {
        var offset = matchLength + depth;
        var nonEmpty = 0;
        var only = -1;
        for (var s = 0; s < ranges.Length; s++)
        {
            if (ranges[s].IsEmpty) continue;
            nonEmpty++;
            only = s;
        }
        if (nonEmpty == 0) return;
        if (nonEmpty == 1)
        {
            // Run lengths inside the one interval are the exact counts.
            EnumerateRuns(_shards[only], ranges[only], offset, rank, depth, collectOnly: false, 0);
            return;
        }

        // Several shards: a child with total count >= T has >= T/shards occurrences in some shard, so collect
        // candidate tokens per shard with that lower threshold, then count each exactly in every shard.
        var threshold = (_selector.Threshold + nonEmpty - 1) / nonEmpty;
        var collected = 0;
        for (var s = 0; s < ranges.Length; s++)
            if (!ranges[s].IsEmpty)
                collected = EnumerateRuns(_shards[s], ranges[s], offset, rank, depth, collectOnly: true, collected, threshold);
        var tokens = _childTokens.AsSpan(0, collected);
        tokens.Sort();
        var previous = int.MinValue;
        foreach (var token in tokens)
        {
            if (token == previous) continue;
            previous = token;
            long count = 0;
            for (var s = 0; s < ranges.Length; s++)
                if (!ranges[s].IsEmpty) count += _shards[s].Narrow(ranges[s], offset, token).Count;
            if (count >= _selector.Threshold) _selector.Push(new DraftCandidate(count, depth + 1, rank, token, 0));
        }
    }

    /// <summary>
    /// Walks the runs of equal tokens at <paramref name="offset"/> inside <paramref name="range"/>, skipping
    /// runs shorter than the threshold by probing: a run of at least T must cover position pos + T - 1.
    /// </summary>
    private int EnumerateRuns(DatastoreShard shard, SuffixRange range, int offset, int rank, int depth,
        bool collectOnly, int collected, long fixedThreshold = 0)
    {
        var separator = _reader.Separator;
        var pos = range.Start;
        var end = range.End;
        while (pos < end)
        {
            var threshold = collectOnly ? fixedThreshold : _selector.Threshold;
            int token, start, stop;
            if (threshold > 1)
            {
                if (threshold > end - pos) break;
                var probe = pos + (int)threshold - 1;
                token = shard.TokenAfter(probe, offset);
                start = LowerBound(shard, pos, probe, offset, token);
                stop = RunEnd(shard, probe + 1, end, offset, token);
                pos = stop;
                if (stop - start < threshold) continue;
            }
            else
            {
                start = pos;
                token = shard.TokenAfter(pos, offset);
                stop = RunEnd(shard, pos + 1, end, offset, token);
                pos = stop;
            }
            // Occurrences that end at the shard's end (-1) or at a separator have no child here.
            if (token < 0 || token == separator) continue;
            if (collectOnly)
            {
                if (collected == _childTokens.Length) Array.Resize(ref _childTokens, collected * 2);
                _childTokens[collected++] = token;
            }
            else
            {
                _selector.Push(new DraftCandidate(stop - start, depth + 1, rank, token, 0));
            }
        }
        return collected;
    }

    /// <summary>First index in [lo, hi] whose token at offset is &gt;= token (index hi has it).</summary>
    private static int LowerBound(DatastoreShard shard, int lo, int hi, int offset, int token)
    {
        while (lo < hi)
        {
            var mid = (int)((uint)(lo + hi) >> 1);
            if (shard.TokenAfter(mid, offset) < token) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    /// <summary>First index in [from, end) whose token at offset exceeds token, by galloping then bisection.</summary>
    private static int RunEnd(DatastoreShard shard, int from, int end, int offset, int token)
    {
        var lo = from;
        var hi = from;
        var step = 1;
        while (hi < end && shard.TokenAfter(hi, offset) <= token)
        {
            lo = hi + 1;
            hi = lo + step;
            step <<= 1;
        }
        if (hi > end) hi = end;
        while (lo < hi)
        {
            var mid = (int)((uint)(lo + hi) >> 1);
            if (shard.TokenAfter(mid, offset) <= token) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
}
