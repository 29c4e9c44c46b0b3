using Rest.Onnx.Acceptance;

namespace Rest.Onnx.Tests.Runtime;

public class TokenSamplerTests
{
    [Test]
    public void TopKKeepsTheKMostLikelyTokensInProportion()
    {
        var weights = Normalised(new SamplingOptions { TopK = 2 }, 0.1, 0.4, 0.2, 0.3);
        Assert.That(weights, Is.EqualTo(new[] { 0, 0.4 / 0.7, 0, 0.3 / 0.7 }).Within(1e-6));
    }

    [Test]
    public void TopPKeepsTheSmallestPrefixReachingP()
    {
        var weights = Normalised(new SamplingOptions { TopP = 0.65f }, 0.2, 0.4, 0.1, 0.3);
        Assert.That(weights, Is.EqualTo(new[] { 0, 0.4 / 0.7, 0, 0.3 / 0.7 }).Within(1e-6));
    }

    [Test]
    public void TemperatureSharpensTheDistribution()
    {
        var weights = Normalised(new SamplingOptions { Temperature = 0.5f }, 0.2, 0.8);
        Assert.That(weights, Is.EqualTo(new[] { 0.04 / 0.68, 0.64 / 0.68 }).Within(1e-6));
    }

    [Test]
    public void SampleDrawsOnlyTokensWithWeight()
    {
        var random = new Random(3);
        for (var i = 0; i < 200; i++) Assert.That(TokenSampler.Sample([0, 2, 0, 1], 3, random), Is.AnyOf(1, 3));
    }

    [Test]
    public void InvalidOptionsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new TokenSampler(new SamplingOptions { Temperature = 0 }, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new TokenSampler(new SamplingOptions { TopP = 0 }, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new TokenSampler(new SamplingOptions { TopK = -1 }, 4));
    }

    private static double[] Normalised(SamplingOptions options, params double[] probabilities)
    {
        var sampler = new TokenSampler(options, probabilities.Length);
        var weights = new double[probabilities.Length];
        var total = sampler.Weights(FakeLogits.FromProbabilities(probabilities), weights);
        return [.. weights.Select(w => w / total)];
    }
}
