using System.Diagnostics;

namespace Rest.Onnx.Drafting.Sources;

/// <summary>
/// Several draft sources as one, merged by their odds: each source drafts its own scored tree, the trees are
/// united (a path that several sources offer is kept once), and the nodes with the highest path probability (the
/// product of the odds along the path) form the tree, up to the budget (<see cref="DraftOptions.CandidateBudget"/>)
/// and the destination's capacity. A node's odds in the union are calibrated, not assumed: per evidence code
/// (<see cref="AcceptanceCalibration.MergedCode"/>: the best and second-best odds the sources gave it, its depth) an
/// <see cref="AcceptanceCalibration"/> learns how often the model accepts such nodes, starting from the best source's
/// odds. Two sources offering the same continuation are often the same evidence seen twice (prompt lookup and a
/// datastore both see common code), so combining them as independent chances, 1 - Π(1 - p), overstated shared nodes
/// and grew trees past what paid; where agreement is independent evidence the calibration learns that too.
/// Odds stay at most 1, so a node's path probability never exceeds its parent's and the best nodes are
/// ancestor-closed. Unscored nodes count as even odds and stay unscored. On ties the earlier source's node goes first.
/// Not thread-safe: one instance per generator. Allocates only when the destination grows.
/// </summary>
internal sealed class MergedDraftSource : IDraftSource
{
    private readonly IDraftSource[] _sources;
    private readonly int _budget;
    private readonly AcceptanceCalibration _calibration;
    private DraftTree[] _trees = [];
    private int[][] _placed = [];
    // The union: token, parent (union index, -1 root), depth, the best and second-best odds sources gave it (NaN: none).
    private int[] _token = [];
    private int[] _parent = [];
    private int[] _depth = [];
    private float[] _best = [];
    private float[] _second = [];
    private double[] _odds = [];
    private double[] _path = [];
    private int[] _order = [];
    private int[] _output = [];
    private ulong[] _offeredBy = [];  // per union node: bit s set when source s offered it
    private int _count;
    private DraftTree? _last;
    private readonly SourcePacing? _pacing;
    private readonly bool[] _drafted;
    private readonly int[] _marginal;

    /// <summary>Merges <paramref name="sources"/> under no budget but the destination's capacity, with a calibration of its own.</summary>
    /// <exception cref="ArgumentException">No sources, or a null one.</exception>
    public MergedDraftSource(params IDraftSource[] sources) : this(int.MaxValue, sources) { }

    /// <summary>Merges <paramref name="sources"/> into trees of at most <paramref name="budget"/> nodes, with a calibration of its own.</summary>
    /// <exception cref="ArgumentException">No sources, or a null one.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="budget"/> is negative.</exception>
    public MergedDraftSource(int budget, params IDraftSource[] sources) : this(budget, new AcceptanceCalibration(), sources) { }

    /// <summary>Merges <paramref name="sources"/> into trees of at most <paramref name="budget"/> nodes whose odds <paramref name="calibration"/> learns.</summary>
    /// <exception cref="ArgumentException">No sources, or a null one.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="budget"/> is negative.</exception>
    public MergedDraftSource(int budget, AcceptanceCalibration calibration, params IDraftSource[] sources)
        : this(budget, calibration, pace: false, sources) { }

    /// <summary>
    /// Merges <paramref name="sources"/> into trees of at most <paramref name="budget"/> nodes whose odds <paramref name="calibration"/>
    /// learns; with <paramref name="pace"/>, a source whose nodes do not pay for its drafting time pauses (<see cref="SourcePacing"/>).
    /// </summary>
    /// <exception cref="ArgumentException">No sources, a null one, or more than 64 to pace.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="budget"/> is negative.</exception>
    public MergedDraftSource(int budget, AcceptanceCalibration calibration, bool pace, params IDraftSource[] sources)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(budget);
        ArgumentNullException.ThrowIfNull(calibration);
        ArgumentNullException.ThrowIfNull(sources);
        if (sources.Length == 0) throw new ArgumentException("At least one draft source is needed.", nameof(sources));
        for (var i = 0; i < sources.Length; i++)
            if (sources[i] is null) throw new ArgumentException($"Draft source {i} is null.", nameof(sources));
        if (pace && sources.Length > 64) throw new ArgumentException("At most 64 sources can be paced.", nameof(sources));
        _sources = sources;
        _budget = budget;
        _calibration = calibration;
        _pacing = pace ? new SourcePacing(sources.Length) : null;
        _drafted = new bool[sources.Length];
        _marginal = new int[sources.Length];
    }

    /// <summary>The pacing of the sources, or null when every source drafts every step.</summary>
    internal SourcePacing? Pacing => _pacing;

    /// <summary>The calibration of the merged odds.</summary>
    public AcceptanceCalibration Calibration => _calibration;

    /// <summary>The merged sources; the earlier wins ties.</summary>
    public IReadOnlyList<IDraftSource> Sources => _sources;

    /// <inheritdoc/>
    public void Draft(ReadOnlySpan<int> context, DraftTree destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        EnsureScratch(destination.Capacity);
        destination.Clear();
        _count = 0;
        for (var s = 0; s < _sources.Length; s++)
        {
            var tree = _trees[s];
            _drafted[s] = _pacing is null || _pacing.ShouldDraft(s);
            if (!_drafted[s])
            {
                tree.Clear();
                continue;
            }
            var start = Stopwatch.GetTimestamp();
            _sources[s].Draft(context, tree);
            _pacing?.RecordCost(s, Stopwatch.GetTimestamp() - start);
            var placed = _placed[s];
            var tokens = tree.Tokens;
            var parents = tree.Parents;
            var odds = tree.Probabilities;
            for (var i = 0; i < tokens.Length; i++)
            {
                var parent = parents[i] < 0 ? -1 : placed[parents[i]];
                var node = Find(parent, tokens[i]);
                if (node < 0)
                {
                    node = _count++;
                    _token[node] = tokens[i];
                    _parent[node] = parent;
                    _depth[node] = parent < 0 ? 1 : _depth[parent] + 1;
                    _best[node] = float.NaN;
                    _second[node] = float.NaN;
                    _offeredBy[node] = 0;
                }
                _offeredBy[node] |= 1UL << (s & 63);
                if (!float.IsNaN(odds[i]))
                {
                    var p = Math.Clamp(odds[i], 0f, 1f);
                    if (float.IsNaN(_best[node]) || p > _best[node])
                    {
                        _second[node] = _best[node];
                        _best[node] = p;
                    }
                    else if (float.IsNaN(_second[node]) || p > _second[node])
                    {
                        _second[node] = p;
                    }
                }
                placed[i] = node;
            }
        }

        // Calibrated odds and path probabilities (parents precede children in the union), then best-first order.
        for (var i = 0; i < _count; i++)
        {
            var scored = !float.IsNaN(_best[i]);
            _odds[i] = scored ? _calibration.Estimate(AcceptanceCalibration.MergedCode(_best[i], _second[i], _depth[i]), _best[i]) : double.NaN;
            var p = scored ? _odds[i] : 0.5;
            _path[i] = _parent[i] < 0 ? p : _path[_parent[i]] * p;
            _order[i] = i;
        }
        // Insertion sort: a few dozen nodes; higher path probability, then shallower, then earlier.
        for (var i = 1; i < _count; i++)
        {
            var node = _order[i];
            var j = i - 1;
            while (j >= 0 && Before(node, _order[j]))
            {
                _order[j + 1] = _order[j];
                j--;
            }
            _order[j + 1] = node;
        }
        var keep = Math.Min(_count, Math.Min(_budget, destination.Capacity));
        // Breadth-first output of the kept nodes: by depth, then rank.
        for (var i = 0; i < _count; i++) _output[i] = -2;
        var maxDepth = 0;
        for (var r = 0; r < keep; r++) maxDepth = Math.Max(maxDepth, _depth[_order[r]]);
        for (var depth = 1; depth <= maxDepth; depth++)
        {
            for (var r = 0; r < keep; r++)
            {
                var node = _order[r];
                if (_depth[node] != depth) continue;
                var parent = _parent[node] < 0 ? -1 : _output[_parent[node]];
                if (parent == -2) continue; // cannot happen (ancestor-closed), kept for safety
                _output[node] = float.IsNaN(_best[node])
                    ? destination.Add(_token[node], parent)
                    : destination.Add(_token[node], parent, (float)_odds[node], AcceptanceCalibration.MergedCode(_best[node], _second[node], _depth[node]));
            }
        }
        _last = destination;
    }

    /// <inheritdoc/>
    public void Observe(ReadOnlySpan<int> modelTokens)
    {
        for (var s = 0; s < _sources.Length; s++)
            if (_drafted[s]) _sources[s].Observe(modelTokens);
        _pacing?.StepEnded(Stopwatch.GetTimestamp(), modelTokens.Length);
        if (_pacing is not null && _last is not null) ObservePacing(modelTokens);
        // Every merged candidate is labelled, verified or not (see AcceptanceCalibration.Observe).
        if (_last is { } tree) _calibration.Observe(tree, modelTokens);
        _last = null;
    }

    /// <summary>
    /// Per source that drafted: how many more tokens of the model's path (<paramref name="modelTokens"/>, from the root)
    /// the union of the candidates held than the union without that source's own nodes.
    /// </summary>
    private void ObservePacing(ReadOnlySpan<int> modelTokens)
    {
        _marginal.AsSpan().Clear();
        var node = -1;
        var depth = 0;
        Span<int> without = stackalloc int[_sources.Length];
        without.Fill(-1);
        while (depth < modelTokens.Length && (node = Find(node, modelTokens[depth])) >= 0)
        {
            // The path without source s ends at the first node that only s offered.
            for (var s = 0; s < _sources.Length; s++)
                if (without[s] < 0 && _offeredBy[node] == 1UL << s) without[s] = depth;
            depth++;
        }
        for (var s = 0; s < _sources.Length; s++) _marginal[s] = without[s] < 0 ? 0 : depth - without[s];
        _pacing!.Observe(_marginal, _drafted);
    }

    private bool Before(int a, int b)
    {
        if (_path[a] != _path[b]) return _path[a] > _path[b];
        if (_depth[a] != _depth[b]) return _depth[a] < _depth[b];
        return a < b;
    }

    private int Find(int parent, int token)
    {
        for (var j = 0; j < _count; j++)
            if (_parent[j] == parent && _token[j] == token) return j;
        return -1;
    }

    private void EnsureScratch(int capacity)
    {
        if (_trees.Length == _sources.Length && _trees[0].Capacity == capacity) return;
        _trees = new DraftTree[_sources.Length];
        _placed = new int[_sources.Length][];
        for (var s = 0; s < _sources.Length; s++)
        {
            _trees[s] = new DraftTree(capacity);
            _placed[s] = new int[capacity];
        }
        var union = capacity * _sources.Length;
        _token = new int[union];
        _parent = new int[union];
        _depth = new int[union];
        _offeredBy = new ulong[union];
        _best = new float[union];
        _second = new float[union];
        _odds = new double[union];
        _path = new double[union];
        _order = new int[union];
        _output = new int[union];
    }
}
