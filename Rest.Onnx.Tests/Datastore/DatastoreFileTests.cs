using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Datastore.Format;
using Rest.Onnx.Datastore.Reading;

namespace Rest.Onnx.Tests.Datastore;

public class DatastoreFileTests
{
    private TempStore _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempStore();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    private static DatastoreBuildOptions Options(int vocab = 50, int separator = 0, long maxShard = DatastoreBuildOptions.DefaultMaxShardTokens)
        => new() { VocabularySize = vocab, Separator = separator, MaxShardTokens = maxShard, TokenizerFingerprint = "xxh3-64:0123456789abcdef" };

    private static void AssertShardsMatch(DatastoreReader reader, List<List<int>> expected)
    {
        Assert.That(reader.Shards, Has.Count.EqualTo(expected.Count));
        long first = 0;
        for (var s = 0; s < expected.Count; s++)
        {
            var shard = reader.Shards[s];
            var text = expected[s].ToArray();
            Assert.That(shard.TokenCount, Is.EqualTo(text.Length), $"shard {s} length");
            Assert.That(shard.FirstToken, Is.EqualTo(first));
            var tokens = new int[text.Length];
            shard.CopyTokens(0, tokens);
            Assert.That(tokens, Is.EqualTo(text), $"shard {s} tokens");
            var sa = Enumerable.Range(0, text.Length).Select(shard.SuffixAt).ToArray();
            Assert.That(sa, Is.EqualTo(NaiveSuffixArray.Build(text)), $"shard {s} suffix array");
            first += text.Length;
        }
        Assert.That(reader.TokenCount, Is.EqualTo(first));
    }

    [Test]
    public void RoundTripsHeaderTokensAndSuffixArrays()
    {
        var docs = Corpora.Markov(1, 30, 1, 80, 40).Select(d => d.Select(t => t + 1).ToArray()).ToList();
        var path = _temp.Build(docs, Options());
        using var reader = DatastoreReader.Open(path);
        Assert.That(reader.VocabularySize, Is.EqualTo(50));
        Assert.That(reader.TokenWidth, Is.EqualTo(2));
        Assert.That(reader.Separator, Is.Zero);
        Assert.That(reader.TokenizerFingerprint, Is.EqualTo("xxh3-64:0123456789abcdef"));
        Assert.That(reader.BuildParameters, Does.Contain("\"separator\":0"));
        AssertShardsMatch(reader, Corpora.ExpectedShards(docs, 0, long.MaxValue));
        reader.Verify();
        Assert.That(Directory.GetFiles(_temp.Folder), Has.Length.EqualTo(1), "no temporary file left");
    }

    [Test]
    public void LargeVocabularyStoresThirtyTwoBitIds()
    {
        var rng = new Random(3);
        var docs = Enumerable.Range(0, 10).Select(_ => Enumerable.Range(0, 50).Select(_ => rng.Next(150_000)).ToArray()).ToList();
        docs[0][0] = 149_999;
        docs[1][5] = 65_536;
        var path = _temp.Build(docs, Options(vocab: 150_000, separator: -1));
        using var reader = DatastoreReader.Open(path);
        Assert.That(reader.TokenWidth, Is.EqualTo(4));
        AssertShardsMatch(reader, Corpora.ExpectedShards(docs, -1, long.MaxValue));
        reader.Verify();
    }

    [Test]
    public void VocabularyOf65536StillFitsSixteenBits()
    {
        var path = _temp.Build([[65_535, 0, 65_535, 1]], Options(vocab: 65_536, separator: -1));
        using var reader = DatastoreReader.Open(path);
        Assert.That(reader.TokenWidth, Is.EqualTo(2));
        Assert.That(reader.Shards[0].TokenAt(0), Is.EqualTo(65_535));
    }

    [TestCase(7)]
    [TestCase(64)]
    [TestCase(200)]
    public void SplitsShardsAtDocumentBoundariesAndCutsLongDocuments(int maxShard)
    {
        var docs = Corpora.Markov(2, 25, 1, 90, 30).Select(d => d.Select(t => t + 1).ToArray()).ToList();
        var path = _temp.Build(docs, Options(maxShard: maxShard));
        using var reader = DatastoreReader.Open(path);
        var expected = Corpora.ExpectedShards(docs, 0, maxShard);
        Assert.That(expected, Has.Count.GreaterThan(1));
        AssertShardsMatch(reader, expected);
        Assert.That(reader.Shards.All(s => s.TokenCount <= maxShard));
        reader.Verify();
    }

    [Test]
    public void EmptyCorpusIsAClearErrorAndLeavesNoFile()
    {
        var e = Assert.Throws<DatastoreBuildException>(() => _temp.Build([[], []], Options()));
        Assert.That(e!.Message, Does.Contain("empty"));
        Assert.That(Directory.GetFiles(_temp.Folder), Is.Empty);
    }

    [Test]
    public void OutOfVocabularyIdIsAClearErrorAndLeavesNoFile()
    {
        var e = Assert.Throws<DatastoreBuildException>(() => _temp.Build([[1, 2, 3], [4, 50, 6]], Options(vocab: 50)));
        Assert.That(e!.Message, Does.Contain("Token id 50 at position 1 of document 1"));
        Assert.That(e.Message, Does.Contain("[0, 50)"));
        Assert.Throws<DatastoreBuildException>(() => _temp.Build([[-3]], Options()));
        Assert.That(Directory.GetFiles(_temp.Folder), Is.Empty);
    }

    [Test]
    public void MissingOutputFolderIsAClearError()
    {
        var e = Assert.Throws<DatastoreBuildException>(() => _temp.Build([[1]], Options(), Path.Combine("no-such-dir", "x.rds")));
        Assert.That(e!.Message, Does.Contain("does not exist"));
    }

    [Test]
    public void InvalidOptionsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _temp.Build([[1]], Options(vocab: 50, separator: 50)));
        Assert.Throws<ArgumentOutOfRangeException>(() => _temp.Build([[1]], Options(maxShard: (long)int.MaxValue + 1)));
    }

    [Test]
    public void RebuildReplacesAnExistingFile()
    {
        var path = _temp.Build([[1, 2, 3]], Options());
        _temp.Build([[4, 5, 6, 7]], Options());
        using var reader = DatastoreReader.Open(path);
        Assert.That(reader.TokenCount, Is.EqualTo(4));
    }

    private string BuildSmall() => _temp.Build(Corpora.Markov(4, 20, 5, 60, 30).Select(d => d.Select(t => t + 1).ToArray()), Options());

    private static void FlipByte(string path, long offset)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        f.Position = offset;
        var b = f.ReadByte();
        f.Position = offset;
        f.WriteByte((byte)(b ^ 0x5A));
    }

    [Test]
    public void CorruptTokenByteIsFoundByVerify()
    {
        var path = BuildSmall();
        FlipByte(path, 128 + 3);
        using var reader = DatastoreReader.Open(path);
        var e = Assert.Throws<DatastoreFormatException>(reader.Verify);
        Assert.That(e!.Message, Does.Contain("shard 0 token array checksum mismatch"));
        Assert.That(e.Message, Does.Contain(path));
    }

    [Test]
    public void CorruptSuffixArrayByteIsFoundByVerify()
    {
        var path = BuildSmall();
        long saOffset;
        using (var reader = DatastoreReader.Open(path))
            saOffset = 128 + ((reader.Shards[0].TokenCount * 2 + 63) / 64 * 64);
        FlipByte(path, saOffset + 5);
        using var reopened = DatastoreReader.Open(path);
        var e = Assert.Throws<DatastoreFormatException>(reopened.Verify);
        Assert.That(e!.Message, Does.Contain("suffix array checksum mismatch"));
    }

    [Test]
    public void CorruptHeaderIsFoundOnOpen()
    {
        var path = BuildSmall();
        FlipByte(path, 17);
        var e = Assert.Throws<DatastoreFormatException>(() => DatastoreReader.Open(path).Dispose());
        Assert.That(e!.Message, Does.Contain("header checksum mismatch"));
    }

    [Test]
    public void CorruptShardTableIsFoundOnOpen()
    {
        var path = BuildSmall();
        FlipByte(path, new FileInfo(path).Length - 3);
        var e = Assert.Throws<DatastoreFormatException>(() => DatastoreReader.Open(path).Dispose());
        Assert.That(e!.Message, Does.Contain("shard table checksum mismatch"));
    }

    [Test]
    public void TruncatedFileIsFoundOnOpen()
    {
        var path = BuildSmall();
        using (var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite)) f.SetLength(f.Length - 1);
        var e = Assert.Throws<DatastoreFormatException>(() => DatastoreReader.Open(path).Dispose());
        Assert.That(e!.Message, Does.Contain("truncated"));

        using (var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite)) f.SetLength(100);
        e = Assert.Throws<DatastoreFormatException>(() => DatastoreReader.Open(path).Dispose());
        Assert.That(e!.Message, Does.Contain("shorter than the 128-byte header"));

        using (var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite)) f.SetLength(0);
        Assert.Throws<DatastoreFormatException>(() => DatastoreReader.Open(path).Dispose());
    }

    [Test]
    public void WrongMagicIsFoundOnOpen()
    {
        var path = _temp.PathOf("not-a-store.bin");
        File.WriteAllBytes(path, new byte[4096]);
        var e = Assert.Throws<DatastoreFormatException>(() => DatastoreReader.Open(path).Dispose());
        Assert.That(e!.Message, Does.Contain("wrong magic"));
    }

    [Test]
    public void WrongVersionIsFoundOnOpen()
    {
        var path = BuildSmall();
        using (var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            f.Position = 8;
            f.Write(BitConverter.GetBytes(99u));
        }
        var e = Assert.Throws<DatastoreFormatException>(() => DatastoreReader.Open(path).Dispose());
        Assert.That(e!.Message, Does.Contain("format version 99 is not supported"));
    }

    [Test]
    public void MissingFileIsFileNotFound()
        => Assert.Throws<FileNotFoundException>(() => DatastoreReader.Open(_temp.PathOf("missing.rds")).Dispose());

    [Test]
    public void TokenizerMismatchNamesBothFingerprints()
    {
        var path = BuildSmall();
        var e = Assert.Throws<TokenizerMismatchException>(() => DatastoreReader.Open(path, "xxh3-64:ffffffffffffffff").Dispose());
        Assert.That(e!.Message, Does.Contain("xxh3-64:ffffffffffffffff"));
        Assert.That(e.Message, Does.Contain("xxh3-64:0123456789abcdef"));
        Assert.That(e.ExpectedFingerprint, Is.EqualTo("xxh3-64:ffffffffffffffff"));
        using var ok = DatastoreReader.Open(path, "xxh3-64:0123456789abcdef");
        Assert.That(ok.TokenCount, Is.GreaterThan(0));
    }

    [Test]
    public void ConcurrentQueriesAgree()
    {
        var path = BuildSmall();
        using var reader = DatastoreReader.Open(path);
        var shard = reader.Shards[0];
        var patterns = Enumerable.Range(0, 200).Select(i => new[] { shard.TokenAt(i % shard.TokenCount), shard.TokenAt((i + 1) % shard.TokenCount) }).ToArray();
        var expected = patterns.Select(p => reader.CountOccurrences(p)).ToArray();
        var results = new long[8][];
        Parallel.For(0, 8, t => results[t] = patterns.Select(p => reader.CountOccurrences(p)).ToArray());
        foreach (var r in results) Assert.That(r, Is.EqualTo(expected));
    }
}
