using Rest.Onnx.Drafting.Sources;
using Rest.Onnx.Tests.Datastore;

namespace Rest.Onnx.Tests.Drafting;

public class MergedDraftSourceTests
{
    /// <summary>Always drafts the same tree, given as (token, parent) pairs.</summary>
    private sealed class FixedTree(params (int Token, int Parent)[] nodes) : IDraftSource
    {
        public void Draft(ReadOnlySpan<int> context, DraftTree destination)
        {
            destination.Clear();
            foreach (var (token, parent) in nodes)
                if (destination.Count < destination.Capacity) destination.Add(token, parent);
        }
    }

    [Test]
    public void SharedPathsAreKeptOnceAndTheFirstSourceComesFirstAtEachDepth()
    {
        // first: 5 -> 6 -> 7 ; second: 5 -> 9, 8 -> 6
        var first = new FixedTree((5, -1), (6, 0), (7, 1));
        var second = new FixedTree((5, -1), (8, -1), (9, 0), (6, 1));
        var tree = new DraftTree(16);
        new MergedDraftSource(first, second).Draft([1, 2], tree);
        Assert.That(NaiveDrafter.Paths(tree), Is.EqualTo(new[] { "5", "8", "5,6", "5,9", "8,6", "5,6,7" }));
        for (var i = 0; i < tree.Count; i++)
            Assert.That(tree.Parents[i], Is.LessThan(i), "parents precede children");
    }

    [Test]
    public void CapacityLimitsTheMergeAndOrphansAreDropped()
    {
        var first = new FixedTree((5, -1), (6, 0), (7, 1));
        var second = new FixedTree((8, -1), (9, 0), (10, 1));
        var tree = new DraftTree(3);
        new MergedDraftSource(first, second).Draft([1], tree);
        // depth 1: 5, 8; depth 2: 5,6 fills it; 8,9 and everything under a dropped node stay out
        Assert.That(NaiveDrafter.Paths(tree), Is.EqualTo(new[] { "5", "8", "5,6" }));
    }

    [Test]
    public void NoSourcesOrANullSourceIsRefused()
    {
        Assert.Throws<ArgumentException>(() => new MergedDraftSource());
        Assert.Throws<ArgumentException>(() => new MergedDraftSource(NoDraftSource.Instance, null!));
    }
}
