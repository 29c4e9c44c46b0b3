using Rest.Onnx.Bench.Datastore;
using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Datastore.Reading;

namespace Rest.Onnx.Tests.Datastore;

/// <summary>The datastore-scale figure's stores: nested prefixes at document boundaries, and the builder's token limit that makes the large store one.</summary>
public class StorePrefixTests
{
    private TempStore _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempStore();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    private static readonly DatastoreBuildOptions Options = new() { VocabularySize = 40, Separator = 0 };

    [Test]
    public void APrefixIsTheShortestRunOfWholeDocumentsReachingTheSizeAndPrefixesNest()
    {
        var documents = Corpora.Markov(seed: 7, documents: 50, minLength: 5, maxLength: 40, alphabet: 39).Select(d => d.Select(t => t + 1).ToArray()).ToList();
        using var source = DatastoreReader.Open(_temp.Build(documents, Options));
        var previous = Array.Empty<int>();
        foreach (var size in new long[] { 1, 60, 300, 1_000_000 })
        {
            var path = _temp.PathOf($"prefix-{size}.rds");
            StorePrefix.Build(source, size, path);
            using var prefix = DatastoreReader.Open(path);
            // Expected: documents in order until the joined length (separators between them) reaches the size.
            var expected = new List<int>();
            var count = 0;
            foreach (var d in documents)
            {
                if (expected.Count >= size) break;
                if (expected.Count > 0) expected.Add(0);
                expected.AddRange(d);
                count++;
            }
            var tokens = TempStore.AllTokens(prefix);
            Assert.That(tokens, Is.EqualTo(expected), $"size {size}");
            Assert.That(prefix.Shards.Sum(s => s.DocumentCount), Is.EqualTo(count));
            Assert.That(tokens.AsSpan(0, previous.Length).SequenceEqual(previous), Is.True, "nested");
            previous = tokens;
        }
    }

    [Test]
    public void MaxTokensBuildsTheSameShortestPrefixFromFiles()
    {
        var files = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            var path = _temp.PathOf($"f{i:D2}.txt");
            File.WriteAllText(path, new string((char)('a' + i % 26), 3 + i));
            files.Add(path);
        }
        static int[] Letters(string text) => [.. text.Select(c => c - 'a' + 1)];
        var output = _temp.PathOf("limited.rds");
        var summary = CorpusBuilder.BuildWithEncoder(output, files, new CorpusOptions { MaxTokens = 50, Parallelism = 2 },
            new DatastoreBuildOptions { VocabularySize = 40, Separator = 0 }, Letters, null, CancellationToken.None);
        // 3 + (1+4) + (1+5) + ... + (1+10) = 59 >= 50 with 8 documents; 7 give 48.
        Assert.That(summary.Documents, Is.EqualTo(8));
        Assert.That(summary.Tokens, Is.EqualTo(59));
        Assert.Throws<ArgumentOutOfRangeException>(() => CorpusBuilder.BuildWithEncoder(output, files, new CorpusOptions { MaxTokens = -1 },
            new DatastoreBuildOptions { VocabularySize = 40 }, Letters, null, CancellationToken.None));
    }
}
