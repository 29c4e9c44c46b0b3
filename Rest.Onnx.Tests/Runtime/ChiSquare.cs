namespace Rest.Onnx.Tests.Runtime;

/// <summary>Pearson's chi-square goodness-of-fit, for distribution tests with fixed seeds.</summary>
internal static class ChiSquare
{
    /// <summary>Upper critical value for a false-alarm rate of 1e-3 (Wilson-Hilferty approximation, z = 3.0902).</summary>
    public static double Critical001(int degreesOfFreedom)
    {
        const double z = 3.0902;
        var k = (double)degreesOfFreedom;
        var t = 1 - 2 / (9 * k) + z * Math.Sqrt(2 / (9 * k));
        return k * t * t * t;
    }

    /// <summary>Statistic and degrees of freedom over categories with expected count at least 5 (others are pooled).</summary>
    public static (double Statistic, int DegreesOfFreedom) Test(IReadOnlyList<long> observed, IReadOnlyList<double> expectedProbabilities, long total)
    {
        double statistic = 0, pooledObserved = 0, pooledExpected = 0;
        var categories = 0;
        for (var i = 0; i < observed.Count; i++)
        {
            var expected = expectedProbabilities[i] * total;
            if (expected < 5)
            {
                pooledObserved += observed[i];
                pooledExpected += expected;
                continue;
            }
            statistic += (observed[i] - expected) * (observed[i] - expected) / expected;
            categories++;
        }
        if (pooledExpected >= 5)
        {
            statistic += (pooledObserved - pooledExpected) * (pooledObserved - pooledExpected) / pooledExpected;
            categories++;
        }
        else if (pooledObserved > 3 * Math.Max(pooledExpected, 1))
        {
            statistic = double.PositiveInfinity; // mass where the target has (almost) none
        }
        return (statistic, categories - 1);
    }
}
