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

    /// <summary>Always drafts the same scored tree, given as (token, parent, odds) triples.</summary>
    private sealed class ScoredTree(params (int Token, int Parent, float Odds)[] nodes) : IDraftSource
    {
        public void Draft(ReadOnlySpan<int> context, DraftTree destination)
        {
            destination.Clear();
            foreach (var (token, parent, odds) in nodes) destination.Add(token, parent, odds);
        }
    }

    [Test]
    public void ScoredTreesMergeByPathProbabilityAndSharedNodesCombineTheirEvidence()
    {
        // first: 5 (0.5) -> 6 (0.9) ; second: 5 (0.5), 8 (0.6) -> 9 (0.2)
        var first = new ScoredTree((5, -1, 0.5f), (6, 0, 0.9f));
        var second = new ScoredTree((5, -1, 0.5f), (8, -1, 0.6f), (9, 1, 0.2f));
        var tree = new DraftTree(16);
        new MergedDraftSource(first, second).Draft([1], tree);
        // 5 is offered by both: 1 - 0.5 * 0.5 = 0.75; paths: 5 0.75, 5,6 0.675, 8 0.6, 8,9 0.12.
        Assert.That(NaiveDrafter.Paths(tree), Is.EqualTo(new[] { "5", "8", "5,6", "8,9" }));
        Assert.That(tree.Probabilities[0], Is.EqualTo(0.75f).Within(1e-6));
        var small = new DraftTree(16);
        new MergedDraftSource(3, first, second).Draft([1], small);
        // Budget 3: the deep likely node 5,6 (0.675) beats 8,9 (0.12); level by level would have kept 8,9 out too but
        // with budget 2 it would keep 5 and 8 where the odds keep 5 and 5,6.
        Assert.That(NaiveDrafter.Paths(small), Is.EqualTo(new[] { "5", "8", "5,6" }));
        new MergedDraftSource(2, first, second).Draft([1], small);
        Assert.That(NaiveDrafter.Paths(small), Is.EqualTo(new[] { "5", "5,6" }));
    }

    [Test]
    public void NoSourcesOrANullSourceIsRefused()
    {
        Assert.Throws<ArgumentException>(() => new MergedDraftSource());
        Assert.Throws<ArgumentException>(() => new MergedDraftSource(NoDraftSource.Instance, null!));
    }
}
