namespace Rest.Onnx;

/// <summary>
/// A draft tree flattened in breadth-first order, reused across decoding steps (no allocation after
/// construction). The tree hangs under an implicit root: the last token of the context, which the
/// model has not consumed yet. Node <c>i</c> has token <see cref="Tokens"/>[i], parent
/// <see cref="Parents"/>[i] (<c>-1</c> = the implicit root) and depth <see cref="Depths"/>[i]
/// (1 for children of the root). Parents always precede their children.
/// Each node also carries its odds (<see cref="Probabilities"/>): the source's estimate of the chance that the
/// model accepts the node once its parent is accepted (NaN when the source gives none), and an opaque
/// <see cref="Evidence"/> code the source uses to calibrate that estimate against what the model accepts.
/// </summary>
public sealed class DraftTree
{
    private readonly int[] _tokens;
    private readonly int[] _parents;
    private readonly int[] _depths;
    private readonly float[] _probabilities;
    private readonly int[] _evidence;

    /// <summary>Creates an empty tree that can hold up to <paramref name="capacity"/> nodes.</summary>
    public DraftTree(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _tokens = new int[capacity];
        _parents = new int[capacity];
        _depths = new int[capacity];
        _probabilities = new float[capacity];
        _evidence = new int[capacity];
    }

    /// <summary>Maximum number of nodes.</summary>
    public int Capacity => _tokens.Length;

    /// <summary>Number of nodes (not counting the implicit root).</summary>
    public int Count { get; private set; }

    /// <summary>Token ids, breadth-first.</summary>
    public ReadOnlySpan<int> Tokens => _tokens.AsSpan(0, Count);

    /// <summary>Parent index of each node; -1 is the implicit root.</summary>
    public ReadOnlySpan<int> Parents => _parents.AsSpan(0, Count);

    /// <summary>Depth of each node; children of the root have depth 1.</summary>
    public ReadOnlySpan<int> Depths => _depths.AsSpan(0, Count);

    /// <summary>
    /// Odds of each node: the estimated probability that the model accepts it given that its parent (or the
    /// root) is accepted; NaN when unscored. A node's path probability is the product along its path.
    /// </summary>
    public ReadOnlySpan<float> Probabilities => _probabilities.AsSpan(0, Count);

    /// <summary>Per-node evidence code of the source that scored it (for calibration); -1 when none.</summary>
    public ReadOnlySpan<int> Evidence => _evidence.AsSpan(0, Count);

    /// <summary>Sets the odds and evidence code of node <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No such node.</exception>
    public void SetScore(int index, float probability, int evidence = -1)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"The tree has {Count} nodes.");
        _probabilities[index] = probability;
        _evidence[index] = evidence;
    }

    /// <summary>Deepest node's depth, 0 for an empty tree.</summary>
    public int MaxDepth { get; private set; }

    /// <summary>Removes all nodes.</summary>
    public void Clear()
    {
        Count = 0;
        MaxDepth = 0;
    }

    /// <summary>Appends an unscored node and returns its index.</summary>
    /// <exception cref="InvalidOperationException">The tree is full.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The parent is not an earlier node or -1.</exception>
    public int Add(int token, int parent) => Add(token, parent, float.NaN);

    /// <summary>Appends a node with its odds (see <see cref="Probabilities"/>) and evidence code; returns its index.</summary>
    /// <exception cref="InvalidOperationException">The tree is full.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The parent is not an earlier node or -1.</exception>
    public int Add(int token, int parent, float probability, int evidence = -1)
    {
        if (Count == _tokens.Length) throw new InvalidOperationException($"Draft tree is full ({Capacity} nodes).");
        if (parent < -1 || parent >= Count)
            throw new ArgumentOutOfRangeException(nameof(parent), parent, $"Parent must be -1 or an earlier node (0..{Count - 1}).");
        var i = Count++;
        _tokens[i] = token;
        _parents[i] = parent;
        var depth = parent < 0 ? 1 : _depths[parent] + 1;
        _depths[i] = depth;
        _probabilities[i] = probability;
        _evidence[i] = evidence;
        if (depth > MaxDepth) MaxDepth = depth;
        return i;
    }

    /// <summary>
    /// Removes, in place, every node whose token is outside [0, <paramref name="vocabularySize"/>) together with its
    /// subtree, keeping the order and the scores of the rest; false when every token was in range. The generator runs it
    /// on every drafted tree, so no source (a corrupt datastore, a custom one) can send the model an id it lacks.
    /// </summary>
    /// <param name="vocabularySize">The model's vocabulary size.</param>
    /// <param name="remap">Scratch of at least <see cref="Count"/> elements.</param>
    internal bool RemoveOutOfVocabulary(int vocabularySize, Span<int> remap)
    {
        var count = Count;
        var kept = 0;
        var maxDepth = 0;
        for (var i = 0; i < count; i++)
        {
            var parent = _parents[i] < 0 ? -1 : remap[_parents[i]];
            if ((uint)_tokens[i] >= (uint)vocabularySize || parent == -2)
            {
                remap[i] = -2;
                continue;
            }
            remap[i] = kept;
            // kept <= i and parents precede children, so the writes never overwrite a node not yet read.
            _tokens[kept] = _tokens[i];
            _parents[kept] = parent;
            _depths[kept] = _depths[i];
            _probabilities[kept] = _probabilities[i];
            _evidence[kept] = _evidence[i];
            maxDepth = Math.Max(maxDepth, _depths[i]);
            kept++;
        }
        var removed = kept != count;
        Count = kept;
        MaxDepth = maxDepth;
        return removed;
    }

    /// <summary>Copies another tree into this one.</summary>
    public void CopyFrom(DraftTree other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Count > Capacity) throw new InvalidOperationException($"Draft tree is full ({Capacity} nodes).");
        other.Tokens.CopyTo(_tokens);
        other.Parents.CopyTo(_parents);
        other.Depths.CopyTo(_depths);
        other.Probabilities.CopyTo(_probabilities);
        other.Evidence.CopyTo(_evidence);
        Count = other.Count;
        MaxDepth = other.MaxDepth;
    }
}
