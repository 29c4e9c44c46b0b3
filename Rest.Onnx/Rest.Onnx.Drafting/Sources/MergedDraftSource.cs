namespace Rest.Onnx.Drafting.Sources;

/// <summary>
/// Several draft sources as one: each drafts its own tree, and the trees are merged level by level
/// (all depth-1 nodes first, then depth 2, ...), sources in priority order, a path that two sources share
/// kept once, until the destination is full. The runtime's hybrid drafting puts prompt lookup
/// (few, precise drafts from the text at hand) before the datastore (many, broader drafts).
/// Not thread-safe: one instance per generator. Allocates only when the destination grows.
/// </summary>
internal sealed class MergedDraftSource : IDraftSource
{
    private const int NotPlaced = -2;
    private readonly IDraftSource[] _sources;
    private DraftTree[] _trees = [];
    private int[][] _placed = [];

    /// <summary>Merges <paramref name="sources"/>, the first one's nodes first.</summary>
    /// <exception cref="ArgumentException">No sources, or a null one.</exception>
    public MergedDraftSource(params IDraftSource[] sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        if (sources.Length == 0) throw new ArgumentException("At least one draft source is needed.", nameof(sources));
        for (var i = 0; i < sources.Length; i++)
            if (sources[i] is null) throw new ArgumentException($"Draft source {i} is null.", nameof(sources));
        _sources = sources;
    }

    /// <summary>The merged sources, in priority order.</summary>
    public IReadOnlyList<IDraftSource> Sources => _sources;

    /// <inheritdoc/>
    public void Draft(ReadOnlySpan<int> context, DraftTree destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        EnsureScratch(destination.Capacity);
        destination.Clear();
        var maxDepth = 0;
        for (var s = 0; s < _sources.Length; s++)
        {
            _sources[s].Draft(context, _trees[s]);
            maxDepth = Math.Max(maxDepth, _trees[s].MaxDepth);
        }
        // Level by level keeps the merged tree breadth-first (parents before children) and lets a
        // lower-priority source's shallow nodes in before a higher one's deep nodes.
        for (var depth = 1; depth <= maxDepth; depth++)
        {
            for (var s = 0; s < _sources.Length; s++)
            {
                var tree = _trees[s];
                var placed = _placed[s];
                var tokens = tree.Tokens;
                var parents = tree.Parents;
                var depths = tree.Depths;
                for (var i = 0; i < tokens.Length; i++)
                {
                    if (depths[i] != depth) continue;
                    var parent = parents[i] < 0 ? -1 : placed[parents[i]];
                    placed[i] = parent == NotPlaced ? NotPlaced : Place(destination, parent, tokens[i]);
                }
            }
        }
    }

    /// <summary>The destination's node for (parent, token): the existing one, a new one, or <see cref="NotPlaced"/> when full.</summary>
    private static int Place(DraftTree destination, int parent, int token)
    {
        var tokens = destination.Tokens;
        var parents = destination.Parents;
        for (var j = 0; j < tokens.Length; j++)
            if (parents[j] == parent && tokens[j] == token) return j;
        return destination.Count < destination.Capacity ? destination.Add(token, parent) : NotPlaced;
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
    }
}
