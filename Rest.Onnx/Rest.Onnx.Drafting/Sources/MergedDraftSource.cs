namespace Rest.Onnx.Drafting.Sources;

/// <summary>
/// Several draft sources as one, merged by their odds: each source drafts its own scored tree, the trees are
/// united (a path that several sources offer is kept once, and its odds combine their evidence as independent
/// chances: 1 - Π(1 - p)), and the nodes with the highest path probability (the product of the odds along the
/// path) form the tree, up to the budget (<see cref="DraftOptions.CandidateBudget"/>) and the destination's
/// capacity. Since odds are at most 1, a node's path probability never exceeds its parent's, so the best nodes
/// are ancestor-closed. Unscored nodes count as even odds. On ties the earlier source's node goes first.
/// Not thread-safe: one instance per generator. Allocates only when the destination grows.
/// </summary>
internal sealed class MergedDraftSource : IDraftSource
{
    private readonly IDraftSource[] _sources;
    private readonly int _budget;
    private DraftTree[] _trees = [];
    private int[][] _placed = [];
    // The union: token, parent (union index, -1 root), depth, 1 - p (product over sources), scored by any source.
    private int[] _token = [];
    private int[] _parent = [];
    private int[] _depth = [];
    private double[] _miss = [];
    private bool[] _scored = [];
    private double[] _path = [];
    private int[] _order = [];
    private int[] _output = [];
    private int _count;

    /// <summary>Merges <paramref name="sources"/> under no budget but the destination's capacity.</summary>
    /// <exception cref="ArgumentException">No sources, or a null one.</exception>
    public MergedDraftSource(params IDraftSource[] sources) : this(int.MaxValue, sources) { }

    /// <summary>Merges <paramref name="sources"/> into trees of at most <paramref name="budget"/> nodes.</summary>
    /// <exception cref="ArgumentException">No sources, or a null one.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="budget"/> is negative.</exception>
    public MergedDraftSource(int budget, params IDraftSource[] sources)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(budget);
        ArgumentNullException.ThrowIfNull(sources);
        if (sources.Length == 0) throw new ArgumentException("At least one draft source is needed.", nameof(sources));
        for (var i = 0; i < sources.Length; i++)
            if (sources[i] is null) throw new ArgumentException($"Draft source {i} is null.", nameof(sources));
        _sources = sources;
        _budget = budget;
    }

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
            _sources[s].Draft(context, tree);
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
                    _miss[node] = 1;
                    _scored[node] = false;
                }
                if (!float.IsNaN(odds[i]))
                {
                    _miss[node] *= 1 - Math.Clamp(odds[i], 0f, 1f);
                    _scored[node] = true;
                }
                placed[i] = node;
            }
        }

        // Path probabilities (parents precede children in the union), then best-first order.
        for (var i = 0; i < _count; i++)
        {
            var p = _scored[i] ? 1 - _miss[i] : 0.5;
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
                _output[node] = destination.Add(_token[node], parent, _scored[node] ? (float)(1 - _miss[node]) : float.NaN);
            }
        }
    }

    /// <inheritdoc/>
    public void Observe(ReadOnlySpan<int> modelTokens)
    {
        foreach (var source in _sources) source.Observe(modelTokens);
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
        _miss = new double[union];
        _scored = new bool[union];
        _path = new double[union];
        _order = new int[union];
        _output = new int[union];
    }
}
