using Rest.Onnx.Drafting.Ranking;
using Rest.Onnx.Tests.Datastore;

namespace Rest.Onnx.Tests.Drafting;

/// <summary>The per-step tree choice against a brute-force oracle over every ancestor-closed subset of small trees.</summary>
public class RateOptimalSelectorTests
{
    [Test]
    public void ChoosesTheBestAncestorClosedSubsetOfRandomTrees([Range(0, 299)] int seed)
    {
        var random = new Random(seed);
        var n = random.Next(0, 11);
        var tree = new DraftTree(16);
        for (var i = 0; i < n; i++)
        {
            var parent = random.Next(-1, i);
            // Odds of every kind: certain, impossible, unscored (NaN counts as 0), anything between.
            var p = random.Next(10) switch { 0 => 1f, 1 => 0f, 2 => float.NaN, _ => (float)random.NextDouble() };
            tree.Add(random.Next(3, 40), parent, p);
        }
        // Costs: a constant part plus rows-dependent growth of random shape (flat, linear, a knee).
        var costs = new double[20];
        var knee = random.Next(1, 12);
        var slope = random.NextDouble() * 0.5;
        var steep = random.NextDouble() * 3;
        for (var r = 1; r < costs.Length; r++) costs[r] = 1 + slope * (r - 1) + (r > knee ? steep * (r - knee) : 0);
        var overhead = random.NextDouble() * 0.5;
        var extra = random.Next(2) == 0 ? 0 : random.NextDouble() * 0.3;
        var maxDepth = random.Next(1, 6);
        var maxNodes = random.Next(0, 12);

        var chosen = new DraftTree(16);
        var selector = new RateOptimalSelector();
        var size = selector.Select(tree, costs, overhead, maxDepth, maxNodes, chosen, extra);

        var (bestRate, bestSize) = BruteForce(tree, costs, overhead, extra, maxDepth, maxNodes);
        Assert.That(size, Is.EqualTo(chosen.Count));
        Assert.That(Rate(chosen, costs, overhead, extra), Is.EqualTo(bestRate).Within(1e-9), $"chosen {size} nodes, the best set has {bestSize}");
        Assert.That(selector.ExpectedTokens, Is.EqualTo(1 + PathSum(chosen)).Within(1e-9));
        // The chosen tree is a subset of the candidates' paths, breadth-first, within the limits.
        var paths = NaiveDrafter.Paths(tree);
        Assert.That(NaiveDrafter.Paths(chosen), Is.SubsetOf(paths));
        Assert.That(chosen.MaxDepth, Is.LessThanOrEqualTo(maxDepth));
        Assert.That(chosen.Count, Is.LessThanOrEqualTo(maxNodes));
        for (var i = 1; i < chosen.Count; i++) Assert.That(chosen.Depths[i], Is.GreaterThanOrEqualTo(chosen.Depths[i - 1]));
    }

    [Test]
    public void CheapRowsAndLikelyDraftsAreVerifiedExpensiveOnesAreNot()
    {
        var tree = new DraftTree(8);
        var a = tree.Add(5, -1, 0.9f);
        tree.Add(6, a, 0.9f);
        tree.Add(7, -1, 0.05f);
        var chosen = new DraftTree(8);
        var selector = new RateOptimalSelector();
        // Rows nearly free: everything with a chance goes in.
        selector.Select(tree, [0, 1, 1.01, 1.02, 1.03, 1.04], 0, 8, 8, chosen);
        Assert.That(NaiveDrafter.Paths(chosen), Is.EqualTo(new[] { "5", "7", "5,6" }));
        // Each row costs as much as the root: no draft pays.
        selector.Select(tree, [0, 1, 2, 3, 4, 5], 0, 8, 8, chosen);
        Assert.That(chosen.Count, Is.EqualTo(0), "1.9 tokens for 2 units loses to 1 token for 1");
        // A knee after 3 rows: the likely chain, not the unlikely sibling.
        selector.Select(tree, [0, 1, 1.1, 1.2, 3, 4], 0, 8, 8, chosen);
        Assert.That(NaiveDrafter.Paths(chosen), Is.EqualTo(new[] { "5", "5,6" }));
    }

    private static double PathSum(DraftTree tree)
    {
        var sum = 0.0;
        for (var i = 0; i < tree.Count; i++) sum += Path(tree, i);
        return sum;
    }

    private static double Path(DraftTree tree, int i)
    {
        var p = 1.0;
        for (var n = i; n >= 0; n = tree.Parents[n])
            p *= float.IsNaN(tree.Probabilities[n]) ? 0 : tree.Probabilities[n];
        return p;
    }

    private static double Rate(DraftTree tree, double[] costs, double overhead, double extra)
        => (1 + PathSum(tree)) / (overhead + (tree.Count > 0 ? extra : 0) + costs[tree.Count + 1]);

    /// <summary>Every subset of the nodes that contains each member's parent, within the limits.</summary>
    private static (double Rate, int Size) BruteForce(DraftTree tree, double[] costs, double overhead, double extra, int maxDepth, int maxNodes)
    {
        var n = tree.Count;
        var best = double.NegativeInfinity;
        var bestSize = 0;
        for (var mask = 0; mask < 1 << n; mask++)
        {
            var size = 0;
            var sum = 0.0;
            var ok = true;
            for (var i = 0; i < n && ok; i++)
            {
                if ((mask & (1 << i)) == 0) continue;
                var parent = tree.Parents[i];
                ok = (parent < 0 || (mask & (1 << parent)) != 0) && tree.Depths[i] <= maxDepth;
                size++;
                sum += Path(tree, i);
            }
            if (!ok || size > maxNodes) continue;
            var rate = (1 + sum) / (overhead + (size > 0 ? extra : 0) + costs[size + 1]);
            if (rate > best + 1e-12)
            {
                best = rate;
                bestSize = size;
            }
        }
        return (best, bestSize);
    }
}
