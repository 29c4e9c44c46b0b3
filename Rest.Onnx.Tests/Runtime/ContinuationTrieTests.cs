using Rest.Onnx.Datastore.Drafting;
using Rest.Onnx.Drafting;

namespace Rest.Onnx.Tests.Runtime;

public class ContinuationTrieTests
{
    [Test]
    public void KeepsTheMostFrequentPrefixesBreadthFirst()
    {
        var trie = new ContinuationTrie(100);
        trie.Add([1, 2, 3]);
        trie.Add([1, 2, 4]);
        trie.Add([1, 5]);
        trie.Add([6]);
        var tree = new DraftTree(3);
        trie.BuildTree(tree, 3);
        // counts: 1:3, 1-2:2, then the count-1 ties in creation order: 1-2-3 first.
        Assert.That(tree.Tokens.ToArray(), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(tree.Parents.ToArray(), Is.EqualTo(new[] { -1, 0, 1 }));
    }

    [Test]
    public void RandomContinuationsGiveTheNaiveTopBudgetSetAsATree()
    {
        var random = new Random(11);
        for (var trial = 0; trial < 200; trial++)
        {
            var continuations = new List<int[]>();
            for (var c = random.Next(1, 30); c > 0; c--)
                continuations.Add([.. Enumerable.Range(0, random.Next(1, 6)).Select(_ => random.Next(4))]);
            var budget = random.Next(0, 20);
            var trie = new ContinuationTrie(1000);
            foreach (var c in continuations) trie.Add(c);
            var tree = new DraftTree(budget);
            trie.BuildTree(tree, budget);

            // Oracle: every prefix with its count and first appearance, best (count desc, first seen asc) first.
            var counts = new Dictionary<string, (int Count, int First)>();
            var order = 0;
            foreach (var c in continuations)
            {
                for (var l = 1; l <= c.Length; l++)
                {
                    var key = string.Join(",", c.Take(l));
                    counts[key] = counts.TryGetValue(key, out var v) ? (v.Count + 1, v.First) : (1, order++);
                }
            }
            var expected = counts.OrderByDescending(kv => kv.Value.Count).ThenBy(kv => kv.Value.First)
                .Take(budget).Select(kv => kv.Key).OrderBy(k => k, StringComparer.Ordinal).ToArray();

            var actual = new List<string>();
            for (var i = 0; i < tree.Count; i++)
            {
                Assert.That(tree.Parents[i], Is.LessThan(i), "parents precede children");
                if (i > 0) Assert.That(tree.Depths[i], Is.GreaterThanOrEqualTo(tree.Depths[i - 1]), "breadth-first order");
                actual.Add(PathOf(tree, i));
            }
            Assert.That(actual.OrderBy(k => k, StringComparer.Ordinal).ToArray(), Is.EqualTo(expected), $"trial {trial}");
        }
    }

    private static string PathOf(DraftTree tree, int node)
    {
        var tokens = new List<int>();
        for (var n = node; n >= 0; n = tree.Parents[n]) tokens.Insert(0, tree.Tokens[n]);
        return string.Join(",", tokens);
    }
}
