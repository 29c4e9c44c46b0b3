using Rest.Onnx.Datastore.Drafting;

namespace Rest.Onnx.Acceptance;

/// <summary>
/// Greedy verification: from the root, follow the child whose token equals the argmax at its parent
/// while there is one; then add the argmax at the last accepted node. The tokens are exactly what plain
/// greedy decoding would produce.
/// </summary>
internal static class GreedyAcceptance
{
    public static void Accept<TLogits>(DraftTree tree, TLogits logits, AcceptedPath path)
        where TLogits : ILogitsRows
    {
        path.Begin(tree);
        var tokens = tree.Tokens;
        var row = 0;
        while (true)
        {
            var best = ArgMax(logits.Row(row));
            var child = path.FirstChild(row);
            while (child >= 0 && tokens[child - 1] != best) child = path.NextSibling(child);
            if (child < 0)
            {
                path.Finish(best);
                return;
            }
            path.Accept(child, best);
            row = child;
        }
    }

    /// <summary>Index of the largest value; the lowest index wins ties.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        var bestValue = values[0];
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > bestValue)
            {
                bestValue = values[i];
                best = i;
            }
        }
        return best;
    }
}
