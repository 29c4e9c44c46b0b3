using Rest.Onnx.Drafting.Ranking;
using Rest.Onnx.Tests.Datastore;

namespace Rest.Onnx.Tests.Drafting;

public class DraftTrieBuilderTests
{
    [Test]
    public void CountsEveryPrefixInAnyInsertionOrder()
    {
        var rng = new Random(1);
        var trie = new DraftTrieBuilder();
        for (var round = 0; round < 3; round++)
        {
            trie.Clear();
            var counts = new Dictionary<string, long>();
            for (var i = 0; i < 3000; i++)
            {
                var c = Enumerable.Range(0, rng.Next(0, 6)).Select(_ => rng.Next(5)).ToArray();
                var weight = rng.Next(1, 4);
                trie.Add(c, weight);
                for (var d = 1; d <= c.Length; d++)
                {
                    var key = NaiveDrafter.Key(c.Take(d));
                    counts[key] = counts.GetValueOrDefault(key) + weight;
                }
            }
            Assert.That(trie.NodeCount, Is.EqualTo(counts.Count));
            foreach (var (key, count) in counts)
                Assert.That(trie.CountOf(key.Split(',').Select(int.Parse).ToArray()), Is.EqualTo(count), key);
            foreach (var budget in new[] { 0, 1, 7, 64, 1000 })
            {
                var tree = new DraftTree(1000);
                trie.EmitTopNodes(budget, tree);
                NaiveDrafter.AssertTopTree(tree, counts, budget);
            }
        }
    }

    [Test]
    public void TiesPreferShallowerThenSmallerToken()
    {
        var trie = new DraftTrieBuilder();
        trie.Add([9, 1]);
        trie.Add([4, 2]);
        var tree = new DraftTree(8);
        Assert.That(trie.EmitTopNodes(3, tree), Is.EqualTo(3));
        // All counts are 1: both depth-1 nodes first (4 before 9), then the child of the earlier-selected 4.
        Assert.That(tree.Tokens.ToArray(), Is.EqualTo(new[] { 4, 9, 2 }));
        Assert.That(tree.Parents.ToArray(), Is.EqualTo(new[] { -1, -1, 0 }));
    }

    [Test]
    public void MoreFrequentDeepNodeBeatsRareSibling()
    {
        var trie = new DraftTrieBuilder();
        for (var i = 0; i < 5; i++) trie.Add([1, 2, 3]);
        trie.Add([7]);
        var tree = new DraftTree(8);
        trie.EmitTopNodes(3, tree);
        Assert.That(tree.Tokens.ToArray(), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(tree.Depths.ToArray(), Is.EqualTo(new[] { 1, 2, 3 }));
    }

    [Test]
    public void RejectsNonPositiveWeight()
        => Assert.Throws<ArgumentOutOfRangeException>(() => new DraftTrieBuilder().Add([1], 0));
}
