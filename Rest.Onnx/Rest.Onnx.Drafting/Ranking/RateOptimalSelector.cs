namespace Rest.Onnx.Drafting.Ranking;

/// <summary>
/// Chooses the part of a scored candidate tree worth verifying: the ancestor-closed subset S (possibly empty)
/// that maximises the expected tokens per second, <c>(1 + Σ_{n∈S} P(n)) / (overhead + t(|S| + 1))</c>, where
/// P(n) is the node's path probability (the product of the odds from the root to it) and t(r) the measured
/// time of a step of r rows. Odds are at most 1, so P never grows along a path: for every size k, the k nodes
/// with the highest P (ties: shallower first) are ancestor-closed and have the largest sum of any
/// ancestor-closed set of that size. The optimum is therefore the best k over that one ranking, found in
/// O(n log n). Reusable; allocates only when the candidate tree grows. Not thread-safe.
/// </summary>
internal sealed class RateOptimalSelector
{
    private double[] _path = new double[64];
    private int[] _order = new int[64];
    private int[] _output = new int[64];
    private int[] _depth = new int[64];

    /// <summary>Expected tokens per step of the last selection (1 + the sum of its path probabilities, unscaled).</summary>
    public double ExpectedTokens { get; private set; }

    /// <summary>
    /// Writes the chosen subset of <paramref name="candidates"/> breadth-first into <paramref name="destination"/>
    /// (cleared first, with the candidates' odds) and returns its size.
    /// </summary>
    /// <param name="candidates">Scored candidates; NaN odds count as 0 (never chosen).</param>
    /// <param name="stepSeconds">t(r) at index r for r = 1 .. at least <paramref name="maxNodes"/> + 1 (index 0 unused).</param>
    /// <param name="overheadSeconds">Time a step costs besides t (drafting, bookkeeping).</param>
    /// <param name="maxDepth">Deepest node allowed.</param>
    /// <param name="draftSeconds">Time a step with at least one draft adds on top of t (the KV compaction after a rejection).</param>
    /// <param name="maxNodes">Most nodes chosen (also limited by the destination's capacity).</param>
    /// <param name="destination">Receives the chosen tree.</param>
    /// <param name="gainScale">Factor on the expected accepted drafts (Σ P), for a known bias of the odds on chosen subsets (1 = none).</param>
    public int Select(DraftTree candidates, ReadOnlySpan<double> stepSeconds, double overheadSeconds, int maxDepth, int maxNodes, DraftTree destination, double draftSeconds = 0, double gainScale = 1)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(destination);
        var count = candidates.Count;
        if (_path.Length < count)
        {
            _path = new double[candidates.Capacity];
            _order = new int[candidates.Capacity];
            _output = new int[candidates.Capacity];
            _depth = new int[candidates.Capacity];
        }
        var parents = candidates.Parents;
        var depths = candidates.Depths;
        var odds = candidates.Probabilities;
        var eligible = 0;
        for (var i = 0; i < count; i++)
        {
            var p = odds[i];
            var own = float.IsNaN(p) ? 0 : Math.Clamp((double)p, 0, 1);
            _path[i] = parents[i] < 0 ? own : _path[parents[i]] * own;
            _depth[i] = depths[i];
            if (depths[i] <= maxDepth && _path[i] > 0) _order[eligible++] = i;
        }
        var order = _order.AsSpan(0, eligible);
        order.Sort(new Ranking(_path, _depth));

        destination.Clear();
        ExpectedTokens = 1;
        if (stepSeconds.Length < 2) return 0; // no costs measured yet: verify the root alone
        var limit = Math.Min(Math.Min(eligible, Math.Max(0, maxNodes)), Math.Min(destination.Capacity, stepSeconds.Length - 2));
        var best = 0;
        var bestSum = 0.0;
        var bestRate = 1 / (overheadSeconds + stepSeconds[1]);
        var sum = 0.0;
        for (var k = 1; k <= limit; k++)
        {
            sum += _path[order[k - 1]];
            var rate = (1 + gainScale * sum) / (overheadSeconds + draftSeconds + stepSeconds[k + 1]);
            if (rate > bestRate)
            {
                bestRate = rate;
                best = k;
                bestSum = sum;
            }
        }
        ExpectedTokens = 1 + bestSum;
        if (best == 0) return 0;
        // Breadth-first: by depth, then rank; parents always rank before their children.
        var chosen = order[..best];
        var maxChosenDepth = 0;
        foreach (var i in chosen) maxChosenDepth = Math.Max(maxChosenDepth, depths[i]);
        var tokens = candidates.Tokens;
        var evidence = candidates.Evidence;
        for (var depth = 1; depth <= maxChosenDepth; depth++)
        {
            foreach (var i in chosen)
            {
                if (depths[i] != depth) continue;
                _output[i] = destination.Add(tokens[i], parents[i] < 0 ? -1 : _output[parents[i]], odds[i], evidence[i]);
            }
        }
        return best;
    }

    /// <summary>Higher path probability first, then shallower, then earlier (a total order).</summary>
    private readonly struct Ranking(double[] path, int[] depths) : IComparer<int>
    {
        public int Compare(int a, int b)
        {
            var c = path[b].CompareTo(path[a]);
            if (c != 0) return c;
            c = depths[a].CompareTo(depths[b]);
            return c != 0 ? c : a.CompareTo(b);
        }
    }
}
