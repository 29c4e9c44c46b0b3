namespace Rest.Onnx.Execution;

/// <summary>
/// The one place a forward pass's batch is laid out: input ids, position ids and the additive 4D attention
/// mask (shape (1, 1, rows, past + rows), row-major in caller-provided buffers) for a tree-verification step
/// (<see cref="Fill"/>: the root, the last context token not yet in the KV cache, at row 0 and the draft
/// tree's nodes at rows 1..n) and for causal prefill (<see cref="FillCausal"/>).
/// </summary>
internal static class VerificationBatch
{
    /// <summary>Value written where attention is masked (additive mask).</summary>
    public const float MaskedValue = -1e9f;

    /// <summary>Rows of the batch: the tree's nodes plus the root.</summary>
    public static int RowCount(DraftTree tree) => tree.Count + 1;

    /// <summary>
    /// Fills ids, positions and mask for the root token plus <paramref name="tree"/>.
    /// <paramref name="mask"/> is row-major [rows, pastLength + rows]; row r may attend to every cached
    /// position, to itself and to its ancestors (the root is an ancestor of every node).
    /// </summary>
    /// <exception cref="ArgumentException">A buffer has the wrong length.</exception>
    public static void Fill(
        DraftTree tree, int rootToken, int pastLength,
        Span<long> inputIds, Span<long> positionIds, Span<float> mask)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentOutOfRangeException.ThrowIfNegative(pastLength);
        var rows = tree.Count + 1;
        var cols = pastLength + rows;
        if (inputIds.Length != rows) throw new ArgumentException($"inputIds needs {rows} elements, got {inputIds.Length}.", nameof(inputIds));
        if (positionIds.Length != rows) throw new ArgumentException($"positionIds needs {rows} elements, got {positionIds.Length}.", nameof(positionIds));
        if (mask.Length != rows * cols) throw new ArgumentException($"mask needs {rows}x{cols}={rows * cols} elements, got {mask.Length}.", nameof(mask));

        var tokens = tree.Tokens;
        var parents = tree.Parents;
        var depths = tree.Depths;
        inputIds[0] = rootToken;
        positionIds[0] = pastLength;
        for (var i = 0; i < tokens.Length; i++)
        {
            inputIds[i + 1] = tokens[i];
            positionIds[i + 1] = pastLength + depths[i];
        }

        mask.Fill(MaskedValue);
        for (var r = 0; r < rows; r++)
        {
            var row = mask.Slice(r * cols, cols);
            row[..pastLength].Clear();
            // Walk up the ancestor chain: row r (node r-1) sees itself, its ancestors and the root.
            var node = r - 1;
            while (node >= 0)
            {
                row[pastLength + node + 1] = 0f;
                node = parents[node];
            }
            row[pastLength] = 0f;
        }
    }

    /// <summary>
    /// Fills ids, positions and mask for <paramref name="tokens"/> at positions <paramref name="pastLength"/>.. that follow
    /// the cache causally: row r sees every cached position and rows 0..r.
    /// </summary>
    /// <exception cref="ArgumentException">A buffer has the wrong length.</exception>
    public static void FillCausal(ReadOnlySpan<int> tokens, int pastLength, Span<long> inputIds, Span<long> positionIds, Span<float> mask)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pastLength);
        var rows = tokens.Length;
        var cols = pastLength + rows;
        if (inputIds.Length != rows) throw new ArgumentException($"inputIds needs {rows} elements, got {inputIds.Length}.", nameof(inputIds));
        if (positionIds.Length != rows) throw new ArgumentException($"positionIds needs {rows} elements, got {positionIds.Length}.", nameof(positionIds));
        if (mask.Length != rows * cols) throw new ArgumentException($"mask needs {rows}x{cols}={rows * cols} elements, got {mask.Length}.", nameof(mask));
        mask.Fill(MaskedValue);
        for (var r = 0; r < rows; r++)
        {
            inputIds[r] = tokens[r];
            positionIds[r] = pastLength + r;
            mask.Slice(r * cols, pastLength + r + 1).Clear(); // the prefix and rows up to itself
        }
    }
}
