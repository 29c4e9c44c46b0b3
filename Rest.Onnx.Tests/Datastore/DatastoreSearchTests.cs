using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Datastore.Reading;
using Rest.Onnx.Datastore.Search;

namespace Rest.Onnx.Tests.Datastore;

public class DatastoreSearchTests
{
    private const int Separator = 0;
    private TempStore _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempStore();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    private (DatastoreReader Reader, NaiveDrafter Oracle, List<int[]> Docs) Build(int seed, long maxShard, int alphabet = 12, int documents = 40)
    {
        var docs = Corpora.Markov(seed, documents, 1, 60, alphabet).Select(d => d.Select(t => t + 1).ToArray()).ToList();
        var path = _temp.Build(docs, new DatastoreBuildOptions { VocabularySize = alphabet + 1, Separator = Separator, MaxShardTokens = maxShard });
        var reader = DatastoreReader.Open(path);
        return (reader, new NaiveDrafter(Corpora.ExpectedShards(docs, Separator, maxShard), Separator), docs);
    }

    private static int[] RandomPattern(Random rng, List<int[]> docs, int alphabet)
    {
        // Half the patterns are cut from the corpus (they match), half are random (they mostly do not).
        var length = rng.Next(1, 6);
        if (rng.Next(2) == 0)
        {
            var doc = docs[rng.Next(docs.Count)];
            var start = rng.Next(doc.Length);
            return doc.AsSpan(start, Math.Min(length, doc.Length - start)).ToArray();
        }
        return Enumerable.Range(0, length).Select(_ => rng.Next(alphabet + 2) - 1).ToArray();
    }

    [TestCase(1, 100_000)]
    [TestCase(2, 97)]
    [TestCase(3, 400)]
    public void FindRangeEqualsNaiveScan(int seed, long maxShard)
    {
        var (reader, oracle, docs) = Build(seed, maxShard);
        using var _ = reader;
        var rng = new Random(seed);
        for (var q = 0; q < 150; q++)
        {
            var pattern = RandomPattern(rng, docs, 12);
            long total = 0;
            for (var s = 0; s < reader.Shards.Count; s++)
            {
                var range = reader.Shards[s].FindRange(pattern);
                var (start, end) = oracle.Range(s, pattern);
                Assert.That((range.Start, range.End), Is.EqualTo((start, end)), $"shard {s} pattern {NaiveDrafter.Key(pattern)}");
                total += range.Count;
            }
            Assert.That(reader.CountOccurrences(pattern), Is.EqualTo(total));
        }
    }

    [Test]
    public void EmptyPrefixMatchesEverySuffix()
    {
        var (reader, _, _) = Build(4, 100_000);
        using var _r = reader;
        var range = reader.Shards[0].FindRange([]);
        Assert.That((range.Start, range.End), Is.EqualTo((0, reader.Shards[0].TokenCount)));
    }

    [TestCase(5, 100_000, 8)]
    [TestCase(6, 150, 8)]
    [TestCase(13, 100_000, 16)]
    [TestCase(14, 150, 16)]
    public void LongestMatchEqualsNaive(int seed, long maxShard, int maxSuffix)
    {
        var (reader, oracle, docs) = Build(seed, maxShard);
        using var _ = reader;
        var searcher = new DatastoreSearcher(reader, DraftOptions.Default with { MaxSuffixLength = maxSuffix, MinSuffixLength = 2 });
        var rng = new Random(seed);
        var ranges = new SuffixRange[reader.Shards.Count];
        for (var q = 0; q < 200; q++)
        {
            var context = Enumerable.Range(0, rng.Next(0, 12)).Select(_ => rng.Next(1, 13)).ToArray();
            if (rng.Next(2) == 0 && context.Length > 0)
            {
                // A stretch of a stored document, so matches of every length up to the maximum occur.
                var doc = docs[rng.Next(docs.Count)];
                var from = rng.Next(doc.Length);
                var take = Math.Min(doc.Length - from, rng.Next(1, maxSuffix + 4));
                context = [.. context, .. doc.AsSpan(from, take).ToArray()];
            }
            var expected = oracle.LongestMatch(context, maxSuffix, 2);
            Assert.That(searcher.FindLongestMatch(context), Is.EqualTo(expected), NaiveDrafter.Key(context));
            if (expected > 0)
            {
                var suffix = context.AsSpan(context.Length - expected);
                Assert.That(searcher.MatchOccurrences, Is.EqualTo(reader.CountOccurrences(suffix)));
                reader.FindRanges(suffix, ranges);
                Assert.That(searcher.MatchRanges.ToArray(), Is.EqualTo(ranges), "the intervals of the longest match");
            }
        }
    }

    [TestCase(7, 100_000, DraftMode.Sampled, 5000)]
    [TestCase(8, 120, DraftMode.Sampled, 5000)]
    [TestCase(9, 100_000, DraftMode.Sampled, 7)]
    [TestCase(10, 130, DraftMode.Sampled, 7)]
    [TestCase(11, 100_000, DraftMode.Exact, 1)]
    [TestCase(12, 110, DraftMode.Exact, 1)]
    public void DraftTreeIsTheTopNodesOfTheNaiveTrie(int seed, long maxShard, DraftMode mode, int k)
    {
        var (reader, oracle, docs) = Build(seed, maxShard);
        using var _ = reader;
        var rng = new Random(seed);
        foreach (var budget in new[] { 1, 5, 16, 64 })
        {
            var options = DraftOptions.Default with { Mode = mode, MaxOccurrences = k, Budget = budget, ContinuationLength = 4, MaxSuffixLength = 6 };
            var searcher = new DatastoreSearcher(reader, options);
            var tree = new DraftTree(100);
            for (var q = 0; q < 15; q++)
            {
                var doc = docs[rng.Next(docs.Count)];
                var context = doc.AsSpan(0, rng.Next(1, doc.Length + 1)).ToArray();
                var matched = searcher.BuildDraft(context, tree);
                Assert.That(matched, Is.EqualTo(oracle.LongestMatch(context, 6, 2)));
                if (matched == 0)
                {
                    Assert.That(tree.Count, Is.Zero);
                    continue;
                }
                // Exact counts over every occurrence: the oracle with an unlimited sample.
                var counts = oracle.PrefixCounts(context[^matched..], mode == DraftMode.Exact ? int.MaxValue : k, 4);
                NaiveDrafter.AssertTopTree(tree, counts, budget);
                Assert.That(tree.Tokens.ToArray(), Does.Not.Contain(Separator), "continuations never cross the separator");
            }
        }
    }

    [TestCase(15, 100_000, DraftMode.Sampled, 0.05)]
    [TestCase(16, 140, DraftMode.Sampled, 0.2)]
    [TestCase(17, 100_000, DraftMode.Exact, 0.05)]
    [TestCase(18, 140, DraftMode.Exact, 0.2)]
    public void MinShareKeepsExactlyTheBudgetTreeNodesWithEnoughOccurrences(int seed, long maxShard, DraftMode mode, double share)
    {
        var (reader, oracle, docs) = Build(seed, maxShard, alphabet: 6);
        using var _ = reader;
        var rng = new Random(seed);
        var full = DraftOptions.Default with { Mode = mode, Budget = 24, ContinuationLength = 4, MaxSuffixLength = 6 };
        var fullSearcher = new DatastoreSearcher(reader, full);
        var prunedSearcher = new DatastoreSearcher(reader, full with { MinShare = share });
        var fullTree = new DraftTree(64);
        var prunedTree = new DraftTree(64);
        var pruned = 0;
        for (var q = 0; q < 25; q++)
        {
            var doc = docs[rng.Next(docs.Count)];
            var context = doc.AsSpan(0, rng.Next(1, doc.Length + 1)).ToArray();
            var matched = fullSearcher.BuildDraft(context, fullTree);
            Assert.That(prunedSearcher.BuildDraft(context, prunedTree), Is.EqualTo(matched));
            if (matched == 0) continue;
            var counts = oracle.PrefixCounts(context[^matched..], int.MaxValue, 4);
            // Shares are of the continuations counted: every occurrence in exact mode, the non-empty ones when sampled.
            var total = mode == DraftMode.Exact
                ? prunedSearcher.MatchOccurrences
                : counts.Where(c => !c.Key.Contains(',', StringComparison.Ordinal)).Sum(c => c.Value);
            var minCount = DraftOptions.MinCount(share, total);
            var expected = NaiveDrafter.Paths(fullTree).Where(path => counts[path] >= minCount).ToList();
            Assert.That(NaiveDrafter.Paths(prunedTree), Is.EqualTo(expected), $"share {share} of {total} = {minCount}");
            pruned += fullTree.Count - prunedTree.Count;
        }
        Assert.That(pruned, Is.GreaterThan(0), "the cases must prune something to test anything");
    }

    [TestCase(13, 100_000)]
    [TestCase(14, 90)]
    public void ExactEqualsSampledWhenTheSampleCoversEveryOccurrence(int seed, long maxShard)
    {
        var (reader, _, docs) = Build(seed, maxShard, alphabet: 6, documents: 60);
        using var _r = reader;
        var sampled = new DatastoreSearcher(reader, DraftOptions.Default with { MaxOccurrences = int.MaxValue, Budget = 24 });
        var exact = new DatastoreSearcher(reader, DraftOptions.Default with { Mode = DraftMode.Exact, Budget = 24 });
        var a = new DraftTree(64);
        var b = new DraftTree(64);
        var rng = new Random(seed);
        for (var q = 0; q < 30; q++)
        {
            var doc = docs[rng.Next(docs.Count)];
            var context = doc.AsSpan(0, rng.Next(1, doc.Length + 1)).ToArray();
            Assert.That(exact.BuildDraft(context, b), Is.EqualTo(sampled.BuildDraft(context, a)));
            Assert.That(b.Tokens.ToArray(), Is.EqualTo(a.Tokens.ToArray()));
            Assert.That(b.Parents.ToArray(), Is.EqualTo(a.Parents.ToArray()));
        }
    }

    [Test]
    public void DraftingIsDeterministicAcrossSearchers()
    {
        var (reader, _, docs) = Build(15, 200);
        using var _r = reader;
        foreach (var mode in new[] { DraftMode.Sampled, DraftMode.Exact })
        {
            var options = DraftOptions.Default with { Mode = mode, MaxOccurrences = 10 };
            var first = new DatastoreSearcher(reader, options);
            var second = new DatastoreSearcher(reader, options);
            var a = new DraftTree(64);
            var b = new DraftTree(64);
            foreach (var doc in docs.Take(20))
            {
                first.BuildDraft(doc.AsSpan(0, Math.Min(3, doc.Length)), a);
                second.BuildDraft(doc.AsSpan(0, Math.Min(3, doc.Length)), b);
                second.BuildDraft(doc.AsSpan(0, Math.Min(3, doc.Length)), b);
                Assert.That(b.Tokens.ToArray(), Is.EqualTo(a.Tokens.ToArray()));
                Assert.That(b.Parents.ToArray(), Is.EqualTo(a.Parents.ToArray()));
            }
        }
    }

    [Test]
    public void SearchersOnManyThreadsShareOneReader()
    {
        var (reader, _, docs) = Build(18, 150);
        using var _r = reader;
        var contexts = docs.Select(d => d.AsSpan(0, Math.Min(4, d.Length)).ToArray()).ToArray();
        string Draft(DatastoreSearcher searcher, DraftTree tree, int[] context)
        {
            searcher.BuildDraft(context, tree);
            return string.Join(";", NaiveDrafter.Paths(tree));
        }
        foreach (var mode in new[] { DraftMode.Sampled, DraftMode.Exact })
        {
            var options = DraftOptions.Default with { Mode = mode, MaxOccurrences = 20 };
            var single = new DatastoreSearcher(reader, options);
            var expected = contexts.Select(c => Draft(single, new DraftTree(64), c)).ToArray();
            var results = new string[4][];
            Parallel.For(0, 4, t =>
            {
                var searcher = new DatastoreSearcher(reader, options);
                var tree = new DraftTree(64);
                results[t] = contexts.Select(c => Draft(searcher, tree, c)).ToArray();
            });
            foreach (var r in results) Assert.That(r, Is.EqualTo(expected));
        }
    }

    [Test]
    public void TreeIsLimitedByTheDestinationCapacity()
    {
        var (reader, _, docs) = Build(16, 100_000);
        using var _r = reader;
        var searcher = new DatastoreSearcher(reader);
        var tree = new DraftTree(3);
        searcher.BuildDraft(docs[0].AsSpan(0, Math.Min(2, docs[0].Length)), tree);
        Assert.That(tree.Count, Is.LessThanOrEqualTo(3));
    }

    [Test]
    public void ThirtyTwoBitStoreDraftsLargeIds()
    {
        var docs = new List<int[]> { new[] { 100_000, 100_001, 100_002, 7 }, new[] { 100_000, 100_001, 100_003 }, new[] { 100_000, 100_001, 100_002 } };
        var path = _temp.Build(docs, new DatastoreBuildOptions { VocabularySize = 128_256, Separator = 128_001 });
        using var reader = DatastoreReader.Open(path);
        var searcher = new DatastoreSearcher(reader);
        var tree = new DraftTree(64);
        Assert.That(searcher.BuildDraft([5, 100_000, 100_001], tree), Is.EqualTo(2));
        Assert.That(tree.Tokens.ToArray(), Is.EqualTo(new[] { 100_002, 100_003, 7 }));
        Assert.That(tree.Parents.ToArray(), Is.EqualTo(new[] { -1, -1, 0 }));
    }

    [Test]
    public void InvalidOptionsAreRejected()
    {
        var (reader, _, _) = Build(17, 100_000);
        using var _r = reader;
        Assert.Throws<ArgumentOutOfRangeException>(() => new DatastoreSearcher(reader, DraftOptions.Default with { MinSuffixLength = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DatastoreSearcher(reader, DraftOptions.Default with { MaxSuffixLength = 1 }));
        Assert.Throws<ArgumentNullException>(() => new DatastoreSearcher(reader, null!));
    }
}
