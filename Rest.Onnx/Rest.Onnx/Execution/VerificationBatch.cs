namespace Rest.Onnx.Execution;

/// <summary>
/// The one place a forward pass's batch is laid out: input ids, position ids and the additive 4D attention
/// mask (shape (1, 1, rows, past + rows), row-major in caller-provided buffers) for a tree-verification step
/// (<see cref="Fill"/>: the root, the last context token not yet in the KV cache, at row 0 and the draft
/// tree's nodes at rows 1..n) and for causal prefill (<see cref="FillCausal"/>).
/// With a sliding window W (Mistral), a row at position p additionally sees only positions q with p - q &lt; W
/// (Hugging Face's convention: the row itself and the W - 1 positions before it). Cache slot i holds position i
/// (the cache keeps only accepted tokens), so cached columns and tree ancestors are windowed alike by position.
/// </summary>
internal static class VerificationBatch
{
    /// <summary>Value written where attention is masked (additive mask).</summary>
    public const float MaskedValue = -1e9f;

    /// <summary>
    /// Fills ids, positions and mask for the root token plus <paramref name="tree"/>.
    /// <paramref name="mask"/> is row-major [rows, pastLength + rows]; row r may attend to every cached
    /// position, to itself and to its ancestors (the root is an ancestor of every node); with
    /// <paramref name="slidingWindow"/>, only to those within the window of its own position.
    /// </summary>
    /// <exception cref="ArgumentException">A buffer has the wrong length.</exception>
    public static void Fill(
        DraftTree tree, int rootToken, int pastLength,
        Span<long> inputIds, Span<long> positionIds, Span<float> mask, int? slidingWindow = null)
    {
        FillInputs(tree, rootToken, pastLength, inputIds, positionIds);
        FillMask(tree, pastLength, mask, slidingWindow);
    }

    /// <summary>The input ids (root, then the nodes) and position ids (past length + depth) of a tree step.</summary>
    /// <exception cref="ArgumentException">A buffer has the wrong length.</exception>
    public static void FillInputs(DraftTree tree, int rootToken, int pastLength, Span<long> inputIds, Span<long> positionIds)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentOutOfRangeException.ThrowIfNegative(pastLength);
        var rows = tree.Count + 1;
        if (inputIds.Length != rows) throw new ArgumentException($"inputIds needs {rows} elements, got {inputIds.Length}.", nameof(inputIds));
        if (positionIds.Length != rows) throw new ArgumentException($"positionIds needs {rows} elements, got {positionIds.Length}.", nameof(positionIds));
        var tokens = tree.Tokens;
        var depths = tree.Depths;
        inputIds[0] = rootToken;
        positionIds[0] = pastLength;
        for (var i = 0; i < tokens.Length; i++)
        {
            inputIds[i + 1] = tokens[i];
            positionIds[i + 1] = pastLength + depths[i];
        }
    }

    /// <summary>The additive mask of a tree step: row-major [rows, pastLength + rows], as <see cref="Fill"/> describes.</summary>
    /// <exception cref="ArgumentException">The mask has the wrong length.</exception>
    public static void FillMask(DraftTree tree, int pastLength, Span<float> mask, int? slidingWindow = null)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentOutOfRangeException.ThrowIfNegative(pastLength);
        if (slidingWindow is <= 0) throw new ArgumentOutOfRangeException(nameof(slidingWindow), slidingWindow, "The sliding window must be positive.");
        var rows = tree.Count + 1;
        var cols = pastLength + rows;
        if (mask.Length != rows * cols) throw new ArgumentException($"mask needs {rows}x{cols}={rows * cols} elements, got {mask.Length}.", nameof(mask));
        var parents = tree.Parents;
        var depths = tree.Depths;
        mask.Fill(MaskedValue);
        var window = slidingWindow ?? int.MaxValue;
        for (var r = 0; r < rows; r++)
        {
            var row = mask.Slice(r * cols, cols);
            var depth = r == 0 ? 0 : depths[r - 1];
            // Cached positions q < pastLength inside the window: q > pastLength + depth - window.
            var firstCached = (int)Math.Max(0L, (long)pastLength + depth - window + 1);
            if (firstCached < pastLength) row[firstCached..pastLength].Clear();
            // Walk up the ancestor chain: row r (node r-1) sees itself, its ancestors and the root,
            // each at position pastLength + its depth, while that lies inside the window.
            var node = r - 1;
            while (node >= 0 && depth - depths[node] < window)
            {
                row[pastLength + node + 1] = 0f;
                node = parents[node];
            }
            if (node < 0 && depth < window) row[pastLength] = 0f;
        }
    }

    /// <summary>
    /// Fills ids, positions and mask for <paramref name="tokens"/> at positions <paramref name="pastLength"/>.. that follow
    /// the cache causally: row r sees every cached position and rows 0..r; with <paramref name="slidingWindow"/> W,
    /// only positions pastLength + r - W + 1 .. pastLength + r.
    /// </summary>
    /// <exception cref="ArgumentException">A buffer has the wrong length.</exception>
    public static void FillCausal(ReadOnlySpan<int> tokens, int pastLength, Span<long> inputIds, Span<long> positionIds, Span<float> mask,
        int? slidingWindow = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pastLength);
        if (slidingWindow is <= 0) throw new ArgumentOutOfRangeException(nameof(slidingWindow), slidingWindow, "The sliding window must be positive.");
        var rows = tokens.Length;
        var cols = pastLength + rows;
        if (inputIds.Length != rows) throw new ArgumentException($"inputIds needs {rows} elements, got {inputIds.Length}.", nameof(inputIds));
        if (positionIds.Length != rows) throw new ArgumentException($"positionIds needs {rows} elements, got {positionIds.Length}.", nameof(positionIds));
        if (mask.Length != rows * cols) throw new ArgumentException($"mask needs {rows}x{cols}={rows * cols} elements, got {mask.Length}.", nameof(mask));
        mask.Fill(MaskedValue);
        var window = slidingWindow ?? int.MaxValue;
        for (var r = 0; r < rows; r++)
        {
            inputIds[r] = tokens[r];
            positionIds[r] = pastLength + r;
            // The prefix and rows up to itself, from the window's first position on.
            var first = (int)Math.Max(0L, (long)pastLength + r - window + 1);
            mask.Slice(r * cols + first, pastLength + r + 1 - first).Clear();
        }
    }
}
