namespace Rest.Onnx.Drafting.Ranking;

/// <summary>A trie node waiting to be selected: its count and identity.</summary>
internal readonly record struct DraftCandidate(long Count, int Depth, int ParentRank, int Token, int Payload)
{
    /// <summary>
    /// The selection order: higher count first, then shallower, then earlier-selected parent, then smaller
    /// token. A total order, so the selected tree is deterministic.
    /// </summary>
    public bool IsBetterThan(in DraftCandidate other)
    {
        if (Count != other.Count) return Count > other.Count;
        if (Depth != other.Depth) return Depth < other.Depth;
        if (ParentRank != other.ParentRank) return ParentRank < other.ParentRank;
        return Token < other.Token;
    }
}

/// <summary>
/// Best-first selection of the most frequent trie nodes under a budget. A child's count never exceeds its
/// parent's, so popping candidates in <see cref="DraftCandidate.IsBetterThan"/> order and pushing a node's
/// children only once it is selected yields the top nodes as an ancestor-closed tree. Reused across steps.
/// </summary>
internal sealed class TopNodeSelector
{
    private DraftCandidate[] _heap = new DraftCandidate[256];
    private int _heapCount;
    private DraftCandidate[] _selected = new DraftCandidate[64];
    private int[] _output = new int[64];
    private long[] _topCounts = new long[64];
    private int _topCount;
    private int _budget;
    private long _minCount = 1;

    /// <summary>Nodes selected so far, in selection order (their index is their rank).</summary>
    public int SelectedCount { get; private set; }

    public ref readonly DraftCandidate Selected(int rank) => ref _selected[rank];

    /// <summary>Starts a selection of at most <paramref name="budget"/> nodes, none with a count below <paramref name="minCount"/>.</summary>
    public void Reset(int budget, long minCount = 1)
    {
        _budget = budget;
        _minCount = Math.Max(1, minCount);
        _heapCount = 0;
        SelectedCount = 0;
        _topCount = 0;
        if (_selected.Length < budget)
        {
            _selected = new DraftCandidate[budget];
            _output = new int[budget];
            _topCounts = new long[budget];
        }
    }

    /// <summary>
    /// Smallest count that can still enter the selection: once <c>budget</c> discovered nodes have a count of
    /// at least T, a node with fewer than T occurrences is never selected; nor is one below the minimum count.
    /// </summary>
    public long Threshold => Math.Max(_minCount, _budget > 0 && _topCount == _budget ? _topCounts[0] : 1);

    /// <summary>Adds a candidate (and records its count for <see cref="Threshold"/>).</summary>
    public void Push(in DraftCandidate candidate)
    {
        if (_budget == 0) return;
        Discover(candidate.Count);
        if (_heapCount == _heap.Length) Array.Resize(ref _heap, _heap.Length * 2);
        var i = _heapCount++;
        while (i > 0)
        {
            var parent = (i - 1) >> 1;
            if (!candidate.IsBetterThan(_heap[parent])) break;
            _heap[i] = _heap[parent];
            i = parent;
        }
        _heap[i] = candidate;
    }

    /// <summary>Selects the best candidate unless the budget is spent or none is left; returns its rank.</summary>
    public bool TryPop(out DraftCandidate candidate, out int rank)
    {
        // The heap's best is below the minimum count, so is everything after it.
        if (SelectedCount >= _budget || _heapCount == 0 || _heap[0].Count < _minCount)
        {
            candidate = default;
            rank = -1;
            return false;
        }
        candidate = _heap[0];
        var last = _heap[--_heapCount];
        var i = 0;
        while (true)
        {
            var child = 2 * i + 1;
            if (child >= _heapCount) break;
            if (child + 1 < _heapCount && _heap[child + 1].IsBetterThan(_heap[child])) child++;
            if (!_heap[child].IsBetterThan(last)) break;
            _heap[i] = _heap[child];
            i = child;
        }
        if (_heapCount > 0) _heap[i] = last;
        rank = SelectedCount++;
        _selected[rank] = candidate;
        return true;
    }

    /// <summary>
    /// Writes the selected nodes breadth-first (by depth, then selection order) into <paramref name="destination"/>.
    /// With a positive <paramref name="rootCount"/> (the continuations under the root), each node's odds are its
    /// raw share of its parent's continuations (count / parent's count), uncalibrated, and its evidence the parent's
    /// count; otherwise unscored.
    /// </summary>
    public void Emit(DraftTree destination, long rootCount = 0)
    {
        destination.Clear();
        var maxDepth = 0;
        for (var r = 0; r < SelectedCount; r++) maxDepth = Math.Max(maxDepth, _selected[r].Depth);
        for (var depth = 1; depth <= maxDepth; depth++)
        {
            for (var r = 0; r < SelectedCount; r++)
            {
                ref readonly var node = ref _selected[r];
                if (node.Depth != depth) continue;
                var parentCount = node.ParentRank < 0 ? rootCount : _selected[node.ParentRank].Count;
                var share = rootCount > 0 && parentCount > 0 ? (float)Math.Min(1.0, (double)node.Count / parentCount) : float.NaN;
                // Until a calibration scores the tree, its evidence is the count the share is of.
                _output[r] = destination.Add(node.Token, node.ParentRank < 0 ? -1 : _output[node.ParentRank], share,
                    rootCount > 0 ? (int)Math.Min(parentCount, int.MaxValue) : -1);
            }
        }
    }

    private void Discover(long count)
    {
        // Min-heap of the budget largest counts discovered.
        var top = _topCounts;
        if (_topCount < _budget)
        {
            var i = _topCount++;
            while (i > 0)
            {
                var parent = (i - 1) >> 1;
                if (top[parent] <= count) break;
                top[i] = top[parent];
                i = parent;
            }
            top[i] = count;
            return;
        }
        if (count <= top[0]) return;
        var j = 0;
        while (true)
        {
            var child = 2 * j + 1;
            if (child >= _topCount) break;
            if (child + 1 < _topCount && top[child + 1] < top[child]) child++;
            if (top[child] >= count) break;
            top[j] = top[child];
            j = child;
        }
        top[j] = count;
    }
}
