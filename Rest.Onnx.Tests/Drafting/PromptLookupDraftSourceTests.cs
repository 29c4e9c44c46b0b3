using Rest.Onnx.Drafting.Sources;

namespace Rest.Onnx.Tests.Drafting;

public class PromptLookupDraftSourceTests
{
    [Test]
    public void DraftsWhatFollowedTheEarlierOccurrenceOfTheSuffix()
    {
        var tree = Draft([1, 2, 3, 4, 9, 8, 1, 2, 3]);
        // suffix [1,2,3] occurred at the start; what followed up to the context's end is [4, 9, 8, 1, 2, 3].
        Assert.That(tree.Tokens.ToArray(), Is.EqualTo(new[] { 4, 9, 8, 1, 2, 3 }));
        Assert.That(tree.Parents.ToArray(), Is.EqualTo(new[] { -1, 0, 1, 2, 3, 4 }));
    }

    [Test]
    public void LongestMatchingSuffixWins()
    {
        // [5, 6] occurs twice earlier, but only the second occurrence extends to [7, 5, 6].
        var tree = Draft([5, 6, 1, 7, 5, 6, 2, 0, 7, 5, 6]);
        Assert.That(tree.Tokens.ToArray()[0], Is.EqualTo(2));
        Assert.That(tree.Tokens.ToArray(), Does.Not.Contain(1));
    }

    [Test]
    public void SeveralOccurrencesBranchWithTheMostFrequentFirst()
    {
        // [3, 4] is the longest repeated suffix (the tokens before each occurrence differ): followed by 8 once, 9 twice.
        var tree = Draft([1, 3, 4, 8, 2, 3, 4, 9, 5, 3, 4, 9, 6, 3, 4], new DraftOptions { ContinuationLength = 1 });
        Assert.That(tree.Tokens.ToArray(), Is.EqualTo(new[] { 9, 8 }));
        Assert.That(tree.Parents.ToArray(), Is.EqualTo(new[] { -1, -1 }));
    }

    [Test]
    public void NoRepeatedSuffixGivesNoDraft()
    {
        Assert.That(Draft([1, 2, 3, 4, 5, 6]).Count, Is.Zero);
        Assert.That(Draft([7]).Count, Is.Zero);
        // a single-token match is below the default minimum suffix of 2
        Assert.That(Draft([1, 2, 3, 1]).Count, Is.Zero);
    }

    [Test]
    public void BudgetBoundsTheTree()
    {
        var context = Enumerable.Range(0, 40).Select(i => i % 7).ToArray();
        var tree = Draft(context, new DraftOptions { Budget = 5 });
        Assert.That(tree.Count, Is.EqualTo(5));
    }

    private static DraftTree Draft(int[] context, DraftOptions? options = null)
    {
        var o = options ?? new DraftOptions();
        var tree = new DraftTree(o.CandidateBudget);
        new PromptLookupDraftSource(o).Draft(context, tree);
        return tree;
    }
}
