namespace Rest.Onnx.Drafting.Ranking;

/// <summary>
/// A counting trie over continuations: <see cref="Add"/> counts every prefix of a continuation, and
/// <see cref="EmitTopNodes"/> writes the most frequent nodes as an ancestor-closed draft tree in
/// breadth-first order. Ties are broken deterministically (shallower, then earlier-selected parent, then
/// smaller token id). Reusable: <see cref="Clear"/> keeps the buffers, so steady-state use allocates nothing.
/// Not thread-safe; use one per thread.
/// </summary>
internal sealed class DraftTrieBuilder
{
    // Node 0 is the implicit root.
    private int[] _token = new int[1024];
    private int[] _parent = new int[1024];
    private int[] _depth = new int[1024];
    private int[] _firstChild = new int[1024];
    private int[] _nextSibling = new int[1024];
    private long[] _count = new long[1024];
    private int _nodes = 1;

    // Open-addressing map (parent, token) -> node; a slot is live when its stamp equals the current one.
    private int[] _slotNode = new int[2048];
    private int[] _slotStamp = new int[2048];
    private int _stamp = 1;
    // True after AddSorted: nodes exist that the map does not hold yet; rebuilt on the next lookup.
    private bool _mapStale;

    // Path of the previous continuation: consecutive sorted continuations share prefixes, found without hashing.
    private int[] _lastPath = new int[16];
    private int[] _lastTokens = new int[16];
    private int _lastLength;

    private readonly TopNodeSelector _selector = new();

    /// <summary>Creates an empty trie.</summary>
    public DraftTrieBuilder() => _firstChild[0] = -1;

    /// <summary>Nodes in the trie, not counting the root.</summary>
    public int NodeCount => _nodes - 1;

    /// <summary>Total weight of the continuations added since <see cref="Clear"/> (the root's count).</summary>
    public long TotalWeight { get; private set; }

    /// <summary>Removes all continuations, keeping the buffers.</summary>
    public void Clear()
    {
        _nodes = 1;
        TotalWeight = 0;
        _firstChild[0] = -1;
        _lastLength = 0;
        _mapStale = false;
        NextStamp();
    }

    private void NextStamp()
    {
        if (++_stamp == int.MaxValue)
        {
            Array.Clear(_slotStamp);
            _stamp = 1;
        }
    }

    /// <summary>Counts every prefix of <paramref name="continuation"/> with <paramref name="weight"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="weight"/> is not positive.</exception>
    public void Add(ReadOnlySpan<int> continuation, long weight = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(weight);
        if (_mapStale) RebuildMap();
        if (continuation.IsEmpty) return;
        TotalWeight += weight;
        AddCore(continuation, weight, sorted: false);
    }

    /// <summary>
    /// Adds a continuation that is not smaller (as a token sequence) than any added since <see cref="Clear"/>,
    /// as the occurrences of one suffix-array interval are. Then a token that differs from the previous
    /// continuation's is always a new child, so no lookup or map insert is needed.
    /// </summary>
    internal void AddSorted(ReadOnlySpan<int> continuation)
    {
        _mapStale = true;
        if (continuation.IsEmpty) return;
        TotalWeight++;
        AddCore(continuation, 1, sorted: true);
    }

    private void AddCore(ReadOnlySpan<int> continuation, long weight, bool sorted)
    {
        if (continuation.Length > _lastPath.Length)
        {
            Array.Resize(ref _lastPath, continuation.Length);
            Array.Resize(ref _lastTokens, continuation.Length);
        }
        var lastPath = _lastPath;
        var lastTokens = _lastTokens;
        var shared = 0;
        var limit = Math.Min(continuation.Length, _lastLength);
        while (shared < limit && continuation[shared] == lastTokens[shared]) shared++;

        var node = 0;
        for (var i = 0; i < shared; i++)
        {
            node = lastPath[i];
            _count[node] += weight;
        }
        var fresh = sorted;
        for (var i = shared; i < continuation.Length; i++)
        {
            var token = continuation[i];
            // A node created in this call has no children yet: skip the lookup.
            var child = fresh ? -1 : Find(node, token);
            if (child < 0)
            {
                child = NewNode(node, token, i + 1, insert: !sorted);
                fresh = true;
            }
            _count[child] += weight;
            lastPath[i] = child;
            lastTokens[i] = token;
            node = child;
        }
        _lastLength = continuation.Length;
    }

    /// <summary>The count of the node reached by <paramref name="path"/> from the root, 0 if absent.</summary>
    public long CountOf(ReadOnlySpan<int> path)
    {
        if (_mapStale) RebuildMap();
        var node = 0;
        foreach (var token in path)
        {
            node = Find(node, token);
            if (node < 0) return 0;
        }
        return node == 0 ? 0 : _count[node];
    }

    /// <summary>
    /// Clears <paramref name="destination"/> and writes the up to <paramref name="budget"/> most frequent nodes
    /// (never more than its capacity), ancestor-closed, breadth-first, each with its raw share of its parent's
    /// continuations as odds (see <see cref="DraftTree.Probabilities"/>). Returns the number of nodes written.
    /// </summary>
    /// <param name="budget">Most nodes written.</param>
    /// <param name="destination">The tree to fill.</param>
    /// <param name="minShare">Smallest share of <see cref="TotalWeight"/> a node's count must reach (see <see cref="DraftOptions.MinShare"/>); 0 keeps every node the budget allows.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="budget"/> is negative or <paramref name="minShare"/> outside [0, 1].</exception>
    public int EmitTopNodes(int budget, DraftTree destination, double minShare = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(budget);
        ArgumentNullException.ThrowIfNull(destination);
        if (!(minShare >= 0 && minShare <= 1)) throw new ArgumentOutOfRangeException(nameof(minShare), minShare, "Must be in [0, 1].");
        var selector = _selector;
        selector.Reset(Math.Min(budget, destination.Capacity), DraftOptions.MinCount(minShare, TotalWeight));
        PushChildren(0, -1);
        while (selector.TryPop(out var candidate, out var rank))
            PushChildren(candidate.Payload, rank);
        selector.Emit(destination, TotalWeight);
        return destination.Count;
    }

    private void PushChildren(int node, int rank)
    {
        for (var child = _firstChild[node]; child >= 0; child = _nextSibling[child])
            _selector.Push(new DraftCandidate(_count[child], _depth[child], rank, _token[child], child));
    }

    private static int Hash(int parent, int token)
        => (int)(((uint)parent * 0x9E3779B1u) ^ ((uint)token * 0x85EBCA77u) ^ ((uint)token >> 15));

    private int Find(int parent, int token)
    {
        var mask = _slotNode.Length - 1;
        for (var slot = Hash(parent, token) & mask; ; slot = (slot + 1) & mask)
        {
            if (_slotStamp[slot] != _stamp) return -1;
            var node = _slotNode[slot];
            if (_parent[node] == parent && _token[node] == token) return node;
        }
    }

    private int NewNode(int parent, int token, int depth, bool insert)
    {
        if (_nodes == _token.Length) GrowNodes();
        if (_nodes * 2 >= _slotNode.Length) GrowSlots(insert);
        var node = _nodes++;
        _token[node] = token;
        _parent[node] = parent;
        _depth[node] = depth;
        _count[node] = 0;
        _firstChild[node] = -1;
        _nextSibling[node] = _firstChild[parent];
        _firstChild[parent] = node;
        if (insert) Insert(node);
        return node;
    }

    private void Insert(int node)
    {
        var mask = _slotNode.Length - 1;
        var slot = Hash(_parent[node], _token[node]) & mask;
        while (_slotStamp[slot] == _stamp) slot = (slot + 1) & mask;
        _slotStamp[slot] = _stamp;
        _slotNode[slot] = node;
    }

    private void GrowNodes()
    {
        var size = _token.Length * 2;
        Array.Resize(ref _token, size);
        Array.Resize(ref _parent, size);
        Array.Resize(ref _depth, size);
        Array.Resize(ref _firstChild, size);
        Array.Resize(ref _nextSibling, size);
        Array.Resize(ref _count, size);
    }

    private void GrowSlots(bool rehash)
    {
        _slotNode = new int[_slotNode.Length * 2];
        _slotStamp = new int[_slotStamp.Length * 2];
        _stamp = 1;
        if (rehash && !_mapStale)
            for (var node = 1; node < _nodes; node++) Insert(node);
    }

    private void RebuildMap()
    {
        if (_nodes * 2 >= _slotNode.Length)
        {
            var size = _slotNode.Length;
            while (_nodes * 2 >= size) size *= 2;
            _slotNode = new int[size];
            _slotStamp = new int[size];
            _stamp = 1;
        }
        else
        {
            NextStamp();
        }
        for (var node = 1; node < _nodes; node++) Insert(node);
        _mapStale = false;
    }
}
