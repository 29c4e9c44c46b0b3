using Rest.Onnx.Drafting.Sources;
using Rest.Onnx.Tests.Datastore;

namespace Rest.Onnx.Tests.Drafting;

/// <summary>The store of past outputs and drafting from it, against a naive scan.</summary>
public class HistoryDraftSourceTests
{
    private static readonly DraftOptions Options = new() { Budget = 16, ContinuationLength = 4 };

    [Test]
    public void DraftsTheContinuationsOfTheLongestMatch()
    {
        var history = new TokenHistory(1024);
        history.Append([10, 11, 12, 13, 14, 15]);
        history.Append([20, 12, 13, 40, 41]);
        var source = new HistoryDraftSource(history, Options);
        var tree = new DraftTree(16);
        // Context ends with 11, 12, 13: the first sequence matches 3 tokens, the second only 2.
        source.Draft([7, 11, 12, 13], tree);
        Assert.That(source.LastMatchLength, Is.EqualTo(3));
        Assert.That(NaiveDrafter.Paths(tree), Is.EqualTo(new[] { "14", "14,15" }), "stops at the separator");
        // Context ending 5, 12, 13: both match 2 tokens, so both continue.
        source.Draft([5, 12, 13], tree);
        Assert.That(source.LastMatchLength, Is.EqualTo(2));
        Assert.That(NaiveDrafter.Paths(tree), Is.EquivalentTo(new[] { "14", "40", "14,15", "40,41" }));
        Assert.That(tree.Probabilities.ToArray(), Has.All.InRange(0f, 1f));
    }

    [Test]
    public void NoMatchAcrossSequencesAndNoneForShortContexts()
    {
        var history = new TokenHistory(64);
        history.Append([1, 2]);
        history.Append([3, 4, 5]);
        var source = new HistoryDraftSource(history, Options);
        var tree = new DraftTree(8);
        source.Draft([2, 3], tree);           // 2 then 3 only across the separator
        Assert.That(tree.Count, Is.EqualTo(0));
        source.Draft([3], tree);
        Assert.That(tree.Count, Is.EqualTo(0));
    }

    [Test]
    public void TheOldestTokensAreDroppedFirst()
    {
        var history = new TokenHistory(32);
        history.Append([100, 101, 102, 103]);
        for (var i = 0; i < 6; i++) history.Append([200 + i, 300, 301, 302]);  // 30 tokens with separators
        Assert.That(history.Count, Is.EqualTo(32));
        var source = new HistoryDraftSource(history, Options);
        var tree = new DraftTree(8);
        source.Draft([100, 101], tree);
        Assert.That(tree.Count, Is.EqualTo(0), "the first sequence was evicted");
        source.Draft([300, 301], tree);
        Assert.That(NaiveDrafter.Paths(tree), Is.EqualTo(new[] { "302" }));
    }

    [Test]
    public void LongSequencesKeepTheirTailAndBadTokensAreRefused()
    {
        var history = new TokenHistory(16);
        history.Append(Enumerable.Range(1, 100).ToArray());
        Assert.That(history.Count, Is.EqualTo(16));
        var tree = new DraftTree(8);
        new HistoryDraftSource(history, Options).Draft([97, 98], tree);
        Assert.That(NaiveDrafter.Paths(tree), Is.EqualTo(new[] { "99", "99,100" }));
        Assert.Throws<ArgumentException>(() => history.Append([1, -5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new TokenHistory(3));
    }

    [Test]
    public void ConcurrentAppendsAndDraftsAgreeWithANaiveScan()
    {
        var history = new TokenHistory(4096);
        var random = new Random(9);
        var sequences = Enumerable.Range(0, 64).Select(_ => Enumerable.Range(0, 30).Select(_ => random.Next(0, 12)).ToArray()).ToList();
        Parallel.For(0, 4, worker =>
        {
            var source = new HistoryDraftSource(history, Options);
            var tree = new DraftTree(16);
            for (var i = worker; i < sequences.Count; i += 4)
            {
                history.Append(sequences[i]);
                source.Draft(sequences[i].AsSpan(0, 10), tree);
                Assert.That(tree.Count, Is.GreaterThan(0), "its own prefix at least is in the store");
            }
        });
        // Single-threaded now: compare the store's best match length with a naive scan of all sequences.
        var check = new HistoryDraftSource(history, Options);
        var tree2 = new DraftTree(16);
        for (var q = 0; q < 50; q++)
        {
            var context = Enumerable.Range(0, 6).Select(_ => random.Next(0, 12)).ToArray();
            check.Draft(context, tree2);
            var naive = 0;
            foreach (var s in sequences)
                for (var e = 0; e < s.Length - 1; e++)   // a match must have a continuation inside its sequence
                {
                    var m = 0;
                    while (m < context.Length && e - m >= 0 && s[e - m] == context[^(m + 1)]) m++;
                    naive = Math.Max(naive, m);
                }
            Assert.That(check.LastMatchLength, Is.EqualTo(naive >= 2 ? naive : 0), $"context {string.Join(",", context)}");
        }
    }
}
