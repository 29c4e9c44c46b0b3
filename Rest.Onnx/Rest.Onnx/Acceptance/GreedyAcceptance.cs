using System.Numerics;

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

    /// <summary>Index of the largest value; the lowest index wins ties. Vectorised max, then the first index holding it.</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var max = float.NegativeInfinity;
        var i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= 2 * Vector<float>.Count)
        {
            var lanes = new Vector<float>(float.NegativeInfinity);
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
                lanes = Vector.Max(lanes, new Vector<float>(values[i..]));
            for (var lane = 0; lane < Vector<float>.Count; lane++) max = Math.Max(max, lanes[lane]);
        }
        for (; i < values.Length; i++) if (values[i] > max) max = values[i];
        for (i = 0; i < values.Length; i++) if (values[i] == max) return i;
        return 0; // all NaN: the first token
    }
}
