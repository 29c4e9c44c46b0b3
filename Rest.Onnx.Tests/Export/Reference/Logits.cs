namespace Rest.Onnx.Tests.Export.Reference;

/// <summary>Logit comparison: max |a - b| relative to the logit scale (max |expected|, at least 1).</summary>
internal static class Logits
{
    public static double RelativeMaxDiff(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length));
        double scale = 1, diff = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(expected[i]));
            diff = Math.Max(diff, Math.Abs(actual[i] - expected[i]));
        }
        return diff / scale;
    }

    public static double RelativeMaxDiff(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        var e = new double[expected.Length];
        for (int i = 0; i < e.Length; i++) e[i] = expected[i];
        return RelativeMaxDiff(actual, e);
    }

    public static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /// <summary>Additive causal mask for <paramref name="seq"/> new rows after <paramref name="past"/> cached ones.</summary>
    public static float[,] Causal(int past, int seq)
    {
        var m = new float[seq, past + seq];
        for (int i = 0; i < seq; i++) for (int j = past + i + 1; j < past + seq; j++) m[i, j] = -1e9f;
        return m;
    }
}
