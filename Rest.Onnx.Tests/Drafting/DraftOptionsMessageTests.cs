namespace Rest.Onnx.Tests.Drafting;

/// <summary>Option errors name the option and its value in the caller's terms, without internal class names.</summary>
public class DraftOptionsMessageTests
{
    [TestCase(5, 2, 5000, 10, 64, 0.0, "MinSuffixLength (5) must not exceed MaxSuffixLength (2).")]
    [TestCase(0, 2, 5000, 10, 64, 0.0, "MinSuffixLength (0) must be at least 1.")]
    [TestCase(2, 16, 0, 10, 64, 0.0, "MaxOccurrences (0) must be at least 1.")]
    [TestCase(2, 16, 5000, 0, 64, 0.0, "ContinuationLength (0) must be at least 1.")]
    [TestCase(2, 16, 5000, 10, -2, 0.0, "Budget (-2) must not be negative (AutoBudget, -1, chooses per step).")]
    [TestCase(2, 16, 5000, 10, 64, 1.5, "MinShare (1.5) must be in [0, 1].")]
    public void MessagesNameTheOptionAndValue(int min, int max, int k, int continuation, int budget, double share, string expected)
    {
        var options = DraftOptions.Default with
        {
            MinSuffixLength = min, MaxSuffixLength = max, MaxOccurrences = k, ContinuationLength = continuation, Budget = budget, MinShare = share,
        };
        var e = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.That(e!.Message, Does.StartWith(expected));
        Assert.That(e.Message, Does.Not.Contain("Actual value").And.Not.Contain("DraftOptions"));
    }
}
