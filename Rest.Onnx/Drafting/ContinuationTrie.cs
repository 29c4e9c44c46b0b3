using Rest.Onnx.Datastore.Drafting;

namespace Rest.Onnx.Drafting;

/// <summary>
/// Counts every prefix of a set of continuations (a trie with frequencies) and keeps the most frequent
/// nodes as a draft tree, as REST does. Storage is allocated once for a fixed number of nodes.
/// </summary>
/// <remarks>
/// Selection is best-first from the root by (count descending, creation order ascending). A child never
/// counts more than its parent and is created after it, so the kept nodes are exactly the first
/// <c>budget</c> nodes of that global order and always form a tree.
/// </remarks>
internal sealed class ContinuationTrie
{
    private const int Root = 0;
    private readonly int[] _token;
    private readonly int[] _count;
    private readonly int[] _firstChild;
    private readonly int[] _nextSibling;
    private readonly int[] _treeIndex;
    private readonly PriorityQueue<int, long> _frontier = new();
    private int[] _level = new int[64];
    private long[] _siblingKeys = new long[64];
    private int[] _siblings = new int[64];
    private int _nodes;

    public ContinuationTrie(int maxNodes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNodes, 1);
        _token = new int[maxNodes + 1];
        _count = new int[maxNodes + 1];
        _firstChild = new int[maxNodes + 1];
        _nextSibling = new int[maxNodes + 1];
        _treeIndex = new int[maxNodes + 1];
        Clear();
    }

    /// <summary>Nodes besides the root.</summary>
    public int Count => _nodes - 1;

    public void Clear()
    {
        _nodes = 1;
        _firstChild[Root] = -1;
        _count[Root] = 0;
    }

    /// <summary>Counts every prefix of <paramref name="continuation"/>; nodes beyond capacity are dropped.</summary>
    public void Add(ReadOnlySpan<int> continuation)
    {
        var node = Root;
        _count[Root]++;
        foreach (var token in continuation)
        {
            var child = _firstChild[node];
            var last = -1;
            while (child >= 0 && _token[child] != token)
            {
                last = child;
                child = _nextSibling[child];
            }
            if (child < 0)
            {
                if (_nodes == _token.Length) return;
                child = _nodes++;
                _token[child] = token;
                _count[child] = 0;
                _firstChild[child] = -1;
                _nextSibling[child] = -1;
                if (last < 0) _firstChild[node] = child;
                else _nextSibling[last] = child;
            }
            _count[child]++;
            node = child;
        }
    }

    /// <summary>Writes the <paramref name="budget"/> most frequent nodes to <paramref name="destination"/> in breadth-first order, siblings by count.</summary>
    public void BuildTree(DraftTree destination, int budget)
    {
        destination.Clear();
        budget = Math.Min(budget, destination.Capacity);
        if (budget <= 0 || _nodes == 1) return;

        // Best-first selection; _treeIndex = -2 marks kept nodes until the tree is written.
        Array.Fill(_treeIndex, -1, 0, _nodes);
        _frontier.Clear();
        for (var c = _firstChild[Root]; c >= 0; c = _nextSibling[c]) _frontier.Enqueue(c, Priority(c));
        var kept = 0;
        while (kept < budget && _frontier.TryDequeue(out var node, out _))
        {
            _treeIndex[node] = -2;
            kept++;
            for (var c = _firstChild[node]; c >= 0; c = _nextSibling[c]) _frontier.Enqueue(c, Priority(c));
        }

        // Breadth-first output: level holds trie nodes in tree order; parents precede children.
        if (_level.Length < kept + 1) _level = new int[kept + 1];
        _level[0] = Root;
        _treeIndex[Root] = -1;
        var head = 0;
        var tail = 1;
        while (head < tail)
        {
            var parent = _level[head++];
            var n = 0;
            for (var c = _firstChild[parent]; c >= 0; c = _nextSibling[c])
            {
                if (_treeIndex[c] != -2) continue;
                if (n == _siblings.Length)
                {
                    Array.Resize(ref _siblings, n * 2);
                    Array.Resize(ref _siblingKeys, n * 2);
                }
                _siblings[n] = c;
                _siblingKeys[n] = Priority(c);
                n++;
            }
            _siblingKeys.AsSpan(0, n).Sort(_siblings.AsSpan(0, n));
            var parentIndex = parent == Root ? -1 : _treeIndex[parent];
            for (var i = 0; i < n; i++)
            {
                var c = _siblings[i];
                _treeIndex[c] = destination.Add(_token[c], parentIndex);
                _level[tail++] = c;
            }
        }
    }

    // Smaller is better: higher count first, then earlier creation.
    private long Priority(int node) => ((long)(int.MaxValue - _count[node]) << 32) | (uint)node;
}
