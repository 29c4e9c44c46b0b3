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
    public void ScoredTreesMergeByPathProbabilityAndASharedNodeStartsAtItsBestOdds()
    {
        // first: 5 (0.5) -> 6 (0.9) ; second: 5 (0.4), 8 (0.6) -> 9 (0.2)
        var first = new ScoredTree((5, -1, 0.5f), (6, 0, 0.9f));
        var second = new ScoredTree((5, -1, 0.4f), (8, -1, 0.6f), (9, 1, 0.2f));
        var tree = new DraftTree(16);
        new MergedDraftSource(first, second).Draft([1], tree);
        // Before any outcome is seen, 5 (offered by both) has the best of its odds, not 1 - 0.5 * 0.6 = 0.7:
        // paths 8 0.6, 5 0.5, 5,6 0.45, 8,9 0.12, written breadth-first.
        Assert.That(NaiveDrafter.Paths(tree), Is.EqualTo(new[] { "8", "5", "5,6", "8,9" }));
        Assert.That(tree.Probabilities[1], Is.EqualTo(0.5f).Within(1e-6));
        Assert.That(tree.Evidence[1], Is.EqualTo(AcceptanceCalibration.MergedCode(0.5f, 0.4f, 1)));
        Assert.That(tree.Evidence[0], Is.EqualTo(AcceptanceCalibration.MergedCode(0.6f, float.NaN, 1)));
        var small = new DraftTree(16);
        new MergedDraftSource(3, first, second).Draft([1], small);
        // Budget 3: the deep likely node 5,6 (0.45) beats 8,9 (0.12).
        Assert.That(NaiveDrafter.Paths(small), Is.EqualTo(new[] { "8", "5", "5,6" }));
        new MergedDraftSource(2, first, second).Draft([1], small);
        Assert.That(NaiveDrafter.Paths(small), Is.EqualTo(new[] { "8", "5" }));
    }

    /// <summary>
    /// Two sources that offer the same chain with the same honest odds (each node is the model's next token half the
    /// time): their agreement is one piece of evidence seen twice. Scored as independent chances (0.75 a node) the
    /// merge made the rate-optimal choice verify three rows where one pays, and the hybrid ran slower than either of
    /// its parts; the learned merge settles at the truth and chooses what a single source chooses.
    /// </summary>
    [Test]
    public void AgreementThatIsTheSameEvidenceTwiceDoesNotMakeTheMergeLoseToItsParts()
    {
        const int Chain = 8;
        var steps = 600;
        var random = new Random(5);
        var (one, merged) = (new ScoredTree(ChainOf(Chain, 0.5f)), new MergedDraftSource(64, new ScoredTree(ChainOf(Chain, 0.5f)), new ScoredTree(ChainOf(Chain, 0.5f))));
        var candidates = new DraftTree(64);
        for (var step = 0; step < steps; step++)
        {
            merged.Draft([1], candidates);
            merged.Observe(ModelTokens(random, Chain));
        }
        merged.Draft([1], candidates);
        Assert.That(candidates.Probabilities[0], Is.EqualTo(0.5f).Within(0.06), "learned odds of a doubly offered node");

        // Step time 1 + 0.3 per extra row: with the true odds of 0.5 one drafted row is the best choice (1.15 tokens per
        // unit of time against 1.09 for two rows).
        double[] curve = [0, .. Enumerable.Range(1, 65).Select(r => 1 + 0.3 * (r - 1))];
        var single = new DraftTree(64);
        one.Draft([1], single);
        var chosenOne = Rate(single, curve);
        var chosenMerged = Rate(candidates, curve);
        Assert.That(chosenMerged.Rate, Is.GreaterThanOrEqualTo(chosenOne.Rate * 0.99), $"merged chose {chosenMerged.Nodes} nodes, one source {chosenOne.Nodes}");

        // The old rule, 1 - (1 - 0.5)^2 = 0.75 a node, chooses a longer chain whose true rate is lower: the loss this guards against.
        var independent = new DraftTree(64);
        new ScoredTree(ChainOf(Chain, 0.75f)).Draft([1], independent);
        var chosenIndependent = Rate(independent, curve);
        Assert.That(chosenIndependent.Nodes, Is.GreaterThan(chosenOne.Nodes));
        Assert.That(chosenIndependent.Rate, Is.LessThan(chosenOne.Rate * 0.99));
    }

    /// <summary>A chain 10, 11, 12, ... of <paramref name="length"/> nodes, each with <paramref name="odds"/>.</summary>
    private static (int Token, int Parent, float Odds)[] ChainOf(int length, float odds)
        => [.. Enumerable.Range(0, length).Select(i => (10 + i, i - 1, odds))];

    /// <summary>The model's tokens after the root: each chain token accepted with probability 1/2, then a token off the chain.</summary>
    private static int[] ModelTokens(Random random, int chain)
    {
        var tokens = new List<int>();
        while (tokens.Count < chain && random.Next(2) == 0) tokens.Add(10 + tokens.Count);
        tokens.Add(99);
        return [.. tokens];
    }

    /// <summary>The rate-optimal subset of <paramref name="candidates"/> under <paramref name="curve"/>, priced with the true odds of 1/2 a node.</summary>
    private static (int Nodes, double Rate) Rate(DraftTree candidates, double[] curve)
    {
        var chosen = new DraftTree(64);
        var nodes = new Rest.Onnx.Drafting.Ranking.RateOptimalSelector().Select(candidates, curve, 0, 64, 64, chosen);
        var expected = 1.0;
        for (var i = 0; i < chosen.Count; i++) expected += Math.Pow(0.5, chosen.Depths[i]);
        return (nodes, expected / curve[nodes + 1]);
    }

    [Test]
    public void NoSourcesOrANullSourceIsRefused()
    {
        Assert.Throws<ArgumentException>(() => new MergedDraftSource());
        Assert.Throws<ArgumentException>(() => new MergedDraftSource(NoDraftSource.Instance, null!));
    }
}
