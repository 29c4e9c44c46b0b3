using Rest.Onnx.Acceptance;

namespace Rest.Onnx.Tests.Runtime;

/// <summary>Logits rows given directly, for acceptance tests without a model.</summary>
internal sealed class FakeLogits(float[][] rows) : ILogitsRows
{
    public ReadOnlySpan<float> Row(int row) => rows[row];

    /// <summary>Logits whose softmax is <paramref name="probabilities"/> (zeros become very unlikely).</summary>
    public static float[] FromProbabilities(params double[] probabilities)
        => [.. probabilities.Select(p => p > 0 ? (float)Math.Log(p) : -1e4f)];

    /// <summary>A row whose argmax is <paramref name="best"/>.</summary>
    public static float[] Peak(int vocabulary, int best)
    {
        var row = new float[vocabulary];
        for (var i = 0; i < vocabulary; i++) row[i] = -(i % 5);
        row[best] = 3;
        return row;
    }
}
