using System.Buffers.Binary;
using System.IO.Hashing;
using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Datastore.Format;
using Rest.Onnx.Datastore.Reading;
using Rest.Onnx.Datastore.Search;

namespace Rest.Onnx.Tests.Datastore;

/// <summary>
/// Fixed-seed fuzzing of the datastore reader: single-byte flips over every region of a small store (header,
/// shard table, fingerprint, token arrays, suffix arrays, padding), wild shard-table numbers with the checksums
/// recomputed, and truncations. Every case must end in a <see cref="DatastoreFormatException"/> naming the
/// file, or in drafts that are well-formed trees; anything else (an access violation kills the test host)
/// fails the run.
/// </summary>
public class DatastoreFuzzTests
{
    private const int Vocabulary = 300;
    private TempStore _temp = null!;
    private string _original = null!;
    private byte[] _bytes = null!;
    private int[][] _contexts = null!;

    [OneTimeSetUp]
    public void BuildStore()
    {
        _temp = new TempStore();
        // Three shards so that later shards, the separator and multi-shard counting are all exercised.
        var documents = Corpora.Markov(seed: 21, documents: 60, minLength: 10, maxLength: 40, alphabet: 40);
        _original = _temp.Build(documents, new DatastoreBuildOptions
        {
            VocabularySize = Vocabulary, Separator = 0, MaxShardTokens = 600, TokenizerFingerprint = "xxh3-64:00112233445566778899",
        });
        _bytes = File.ReadAllBytes(_original);
        var random = new Random(4);
        _contexts = [.. Enumerable.Range(0, 12).Select(i =>
        {
            var d = documents[random.Next(documents.Count)];
            var end = random.Next(3, d.Length);
            return d[..end];
        })];
    }

    [OneTimeTearDown]
    public void TearDown() => _temp.Dispose();

    /// <summary>The file's regions, from its own header and shard table.</summary>
    private List<(string Name, long Start, long End)> Regions()
    {
        var header = FixedHeader.Read(_bytes, _bytes.Length, _original);
        var regions = new List<(string, long, long)> { ("header", 0, DatastoreLayout.HeaderSize) };
        long previousEnd = DatastoreLayout.HeaderSize;
        for (var i = 0; i < header.ShardCount; i++)
        {
            var e = ShardEntry.Read(_bytes.AsSpan((int)header.MetadataOffset + i * DatastoreLayout.ShardEntrySize));
            if (e.TokensOffset > previousEnd) regions.Add(($"padding before shard {i}", previousEnd, e.TokensOffset));
            regions.Add(($"shard {i} tokens", e.TokensOffset, e.TokensOffset + e.TokenCount * header.TokenWidth));
            var tokensEnd = e.TokensOffset + e.TokenCount * header.TokenWidth;
            if (e.SuffixArrayOffset > tokensEnd) regions.Add(($"padding in shard {i}", tokensEnd, e.SuffixArrayOffset));
            regions.Add(($"shard {i} suffix array", e.SuffixArrayOffset, e.SuffixArrayOffset + e.TokenCount * 4));
            previousEnd = e.SuffixArrayOffset + e.TokenCount * 4;
        }
        if (header.MetadataOffset > previousEnd) regions.Add(("padding before metadata", previousEnd, header.MetadataOffset));
        var tableEnd = header.MetadataOffset + header.ShardCount * DatastoreLayout.ShardEntrySize;
        regions.Add(("shard table", header.MetadataOffset, tableEnd));
        regions.Add(("fingerprint and build parameters", tableEnd, _bytes.Length));
        return regions;
    }

    [Test]
    public void SingleByteFlipsInEveryRegionGiveAClearErrorOrWellFormedDrafts()
    {
        var random = new Random(11);
        var path = _temp.PathOf("flip.rds");
        var outcomes = new Dictionary<string, (int Rejected, int Opened, int VerifyFailed)>();
        foreach (var (name, start, end) in Regions())
        {
            var (rejected, opened, verifyFailed) = (0, 0, 0);
            var flips = Math.Min(40, (int)(end - start));
            for (var f = 0; f < flips; f++)
            {
                var copy = (byte[])_bytes.Clone();
                var at = start + random.NextInt64(end - start);
                copy[at] ^= (byte)random.Next(1, 256);
                File.WriteAllBytes(path, copy);
                switch (Probe(path, $"{name} byte {at}"))
                {
                    case Outcome.Rejected: rejected++; break;
                    case Outcome.VerifyFailed: opened++; verifyFailed++; break;
                    default: opened++; break;
                }
            }
            outcomes[name] = (rejected, opened, verifyFailed);
        }
        // Header and shard table are checksummed at open; sections by Verify; padding by nothing (and unused).
        Assert.That(outcomes["header"].Opened, Is.Zero);
        Assert.That(outcomes["shard table"].Opened, Is.Zero);
        foreach (var (name, o) in outcomes.Where(o => o.Key.Contains("tokens") || o.Key.Contains("suffix array")))
            Assert.That(o.VerifyFailed, Is.EqualTo(o.Opened), $"{name}: Verify catches every flip");
    }

    [Test]
    public void HighBytesOfSuffixArrayEntriesNeverReadOutsideTheFile()
    {
        // The crashing case of the hostile pass: suffix-array values far outside the shard.
        var random = new Random(12);
        var path = _temp.PathOf("sa.rds");
        foreach (var (name, start, end) in Regions().Where(r => r.Name.Contains("suffix array")))
        {
            foreach (var value in new[] { int.MaxValue, int.MinValue, -1, 1 << 30, 600, 601 })
            {
                var copy = (byte[])_bytes.Clone();
                // Many entries at once: binary searches and continuation reads all meet them.
                for (var k = 0; k < 30; k++)
                {
                    var entry = start + 4 * random.NextInt64((end - start) / 4);
                    BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan((int)entry), value);
                }
                File.WriteAllBytes(path, copy);
                Assert.That(Probe(path, $"{name} = {value}"), Is.EqualTo(Outcome.VerifyFailed));
            }
        }
    }

    [Test]
    public void WildShardTableNumbersWithValidChecksumsAreRejectedAtOpen()
    {
        var header = FixedHeader.Read(_bytes, _bytes.Length, _original);
        var path = _temp.PathOf("wild.rds");
        // Offsets into a shard entry: token count, first token, tokens offset, suffix-array offset, documents.
        foreach (var field in new[] { 0, 8, 16, 32 })
        {
            foreach (var value in new[] { long.MaxValue, long.MaxValue - 63, (1L << 62) + 64, -64, 64, 1, (long)_bytes.Length, int.MaxValue + 1L })
            {
                var copy = (byte[])_bytes.Clone();
                BinaryPrimitives.WriteInt64LittleEndian(copy.AsSpan((int)header.MetadataOffset + DatastoreLayout.ShardEntrySize + field), value);
                Rechecksum(copy, header);
                File.WriteAllBytes(path, copy);
                var outcome = Probe(path, $"shard 1 field {field} = {value}");
                Assert.That(outcome, Is.Not.EqualTo(Outcome.Clean), $"field {field} = {value} must not pass as a valid store");
            }
        }
    }

    [Test]
    public void FingerprintLengthOfTwoToTheThirtyOneIsAClearError()
    {
        var header = FixedHeader.Read(_bytes, _bytes.Length, _original);
        var copy = (byte[])_bytes.Clone();
        var at = (int)header.MetadataOffset + header.ShardCount * DatastoreLayout.ShardEntrySize;
        BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(at), int.MaxValue);
        Rechecksum(copy, header);
        var path = _temp.PathOf("fp.rds");
        File.WriteAllBytes(path, copy);
        var e = Assert.Throws<DatastoreFormatException>(() => DatastoreReader.Open(path).Dispose());
        Assert.That(e!.Message, Does.Contain("tokenizer fingerprint length 2147483647 runs past the metadata"));
    }

    [Test]
    public void WildHeaderNumbersWithValidChecksumsAreRejectedAtOpen()
    {
        var path = _temp.PathOf("header.rds");
        // Metadata offset and length (48, 56), token count (32), shard count (28), vocabulary (16).
        foreach (var (offset, value) in new (int, long)[]
        {
            (48, long.MaxValue), (48, long.MaxValue - 7), (56, long.MaxValue), (56, -1), (48, -128), (56, int.MaxValue + 10L),
            (32, long.MaxValue), (32, 1),
        })
        {
            var copy = (byte[])_bytes.Clone();
            BinaryPrimitives.WriteInt64LittleEndian(copy.AsSpan(offset), value);
            RechecksumHeader(copy);
            File.WriteAllBytes(path, copy);
            Assert.That(Probe(path, $"header {offset} = {value}"), Is.EqualTo(Outcome.Rejected), $"header field at {offset} = {value}");
        }
        foreach (var shards in new[] { int.MaxValue, 1 << 26, 4 })
        {
            var copy = (byte[])_bytes.Clone();
            BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(28), shards);
            RechecksumHeader(copy);
            File.WriteAllBytes(path, copy);
            Assert.That(Probe(path, $"shard count {shards}"), Is.EqualTo(Outcome.Rejected));
        }
    }

    [Test]
    public void TruncationsAtEveryRegionBoundaryAndInsideAreRejected()
    {
        var random = new Random(13);
        var path = _temp.PathOf("cut.rds");
        var lengths = Regions().SelectMany(r => new[] { r.Start, r.End - 1, r.Start + (r.End - r.Start) / 2 })
            .Concat(Enumerable.Range(0, 20).Select(_ => random.NextInt64(_bytes.Length)))
            .Where(l => l < _bytes.Length).Distinct();
        foreach (var length in lengths)
        {
            File.WriteAllBytes(path, _bytes.AsSpan(0, (int)length).ToArray());
            Assert.That(Probe(path, $"truncated to {length}"), Is.EqualTo(Outcome.Rejected), $"truncated to {length} bytes");
        }
        // Trailing bytes are as wrong as missing ones.
        File.WriteAllBytes(path, [.. _bytes, 0]);
        Assert.That(Probe(path, "one trailing byte"), Is.EqualTo(Outcome.Rejected));
    }

    [Test]
    public void AFolderIsNamedAsAFolder()
    {
        var e = Assert.Throws<DatastoreFormatException>(() => DatastoreReader.Open(_temp.Folder));
        Assert.That(e!.Message, Does.Contain("is a folder, not a datastore file"));
    }

    [Test]
    public void AFifoIsRefusedWithoutBlocking()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("FIFOs are a Unix feature.");
        var fifo = BuildSafetyTests.MakeFifo(_temp.PathOf("pipe.rds"));
        var open = Task.Run(() => DatastoreReader.Open(fifo));
        Assert.That(Task.WhenAny(open, Task.Delay(TimeSpan.FromSeconds(20))).Result, Is.SameAs(open), "open returned instead of blocking on the FIFO");
        Assert.That(open.Exception?.InnerException, Is.TypeOf<DatastoreFormatException>().With.Message.Contains("FIFO"));
    }

    [Test]
    public void VerifyChecksSixteenBitIdsAgainstTheVocabulary()
    {
        // A 16-bit store of vocabulary 300 holding id 60000, with every checksum recomputed: only the id check catches it.
        var header = FixedHeader.Read(_bytes, _bytes.Length, _original);
        var copy = (byte[])_bytes.Clone();
        var entryAt = (int)header.MetadataOffset;
        var entry = ShardEntry.Read(copy.AsSpan(entryAt));
        BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan((int)entry.TokensOffset + 2 * 5), 60000);
        var tokens = copy.AsSpan((int)entry.TokensOffset, (int)entry.TokenCount * 2);
        (entry with { TokensChecksum = XxHash3.HashToUInt64(tokens) }).Write(copy.AsSpan(entryAt));
        Rechecksum(copy, header);
        var path = _temp.PathOf("id60000.rds");
        File.WriteAllBytes(path, copy);
        using var reader = DatastoreReader.Open(path);
        var e = Assert.Throws<DatastoreFormatException>(reader.Verify);
        Assert.That(e!.Message, Does.Contain("shard 0 token 5 has id 60000, outside the vocabulary [0, 300)"));
        Assert.Throws<DatastoreFormatException>(() => DatastoreReader.Open(path, null, verifyChecksums: true));
    }

    [Test]
    public void ChecksumVerificationAtOpenIsOptional()
    {
        var header = FixedHeader.Read(_bytes, _bytes.Length, _original);
        var entry = ShardEntry.Read(_bytes.AsSpan((int)header.MetadataOffset));
        var copy = (byte[])_bytes.Clone();
        copy[entry.SuffixArrayOffset + 1] ^= 0x10;
        var path = _temp.PathOf("lazy.rds");
        File.WriteAllBytes(path, copy);
        DatastoreReader.Open(path).Dispose();
        var e = Assert.Throws<DatastoreFormatException>(() => DatastoreReader.Open(path, null, verifyChecksums: true));
        Assert.That(e!.Message, Does.Contain("shard 0 suffix array checksum mismatch"));
        DatastoreReader.Open(_original, null, verifyChecksums: true).Dispose();
    }

    private enum Outcome { Rejected, VerifyFailed, Clean }

    /// <summary>Opens, verifies and drafts from a store; returns how it ended. Any exception but the format one escapes.</summary>
    private Outcome Probe(string path, string what)
    {
        DatastoreReader reader;
        try
        {
            reader = DatastoreReader.Open(path);
        }
        catch (DatastoreFormatException e)
        {
            Assert.That(e.Message, Does.Contain(path), what);
            return Outcome.Rejected;
        }
        using (reader)
        {
            var verified = true;
            try { reader.Verify(); }
            catch (DatastoreFormatException e)
            {
                Assert.That(e.Message, Does.Contain(path).And.Contain("shard"), what);
                verified = false;
            }
            // Reads on whatever the sections hold: every answer must be a well-formed tree of 16-bit ids.
            foreach (var mode in new[] { DraftMode.Sampled, DraftMode.Exact })
            {
                var source = new DatastoreDraftSource([reader], DraftOptions.Default with { Mode = mode, Budget = 24 });
                var tree = new DraftTree(24);
                foreach (var context in _contexts)
                {
                    source.Draft(context, tree);
                    // 32-bit stores can yield any int (the runtime drops ids outside the model's vocabulary).
                    AssertWellFormed(tree, reader.TokenWidth == 2 ? 0 : int.MinValue, reader.TokenWidth == 2 ? 65535 : int.MaxValue, what);
                }
            }
            var continuation = new int[8];
            for (var s = 0; s < reader.Shards.Count; s++)
            {
                var shard = reader.Shards[s];
                for (var i = 0; i < shard.TokenCount; i += 7)
                {
                    var at = shard.SuffixAt(i);
                    Assert.That(at, Is.InRange(0, shard.TokenCount), what);
                    reader.ReadContinuation(s, i, 1, continuation);
                }
            }
            return verified ? Outcome.Clean : Outcome.VerifyFailed;
        }
    }

    private static void AssertWellFormed(DraftTree tree, int minId, int maxId, string what)
    {
        Assert.That(tree.Count, Is.LessThanOrEqualTo(tree.Capacity), what);
        for (var i = 0; i < tree.Count; i++)
        {
            Assert.That(tree.Parents[i], Is.InRange(-1, i - 1), what);
            Assert.That(tree.Tokens[i], Is.InRange(minId, maxId), what);
        }
    }

    [Test]
    public void FlipsOfAThirtyTwoBitStoreGiveAClearErrorOrWellFormedDrafts()
    {
        var random = new Random(14);
        var documents = Enumerable.Range(0, 30).Select(_ => Enumerable.Range(0, 30).Select(_ => 65_000 + random.Next(40)).ToArray()).ToList();
        var path32 = _temp.Build(documents, new DatastoreBuildOptions { VocabularySize = 70_000, Separator = 1, MaxShardTokens = 500 }, "wide.rds");
        var bytes = File.ReadAllBytes(path32);
        var path = _temp.PathOf("wide-flip.rds");
        var saved = (_contexts, _bytes);
        _contexts = [.. documents.Take(6).Select(d => d[..12])];
        try
        {
            var verifyFailed = 0;
            for (var f = 0; f < 120; f++)
            {
                var copy = (byte[])bytes.Clone();
                // Flip inside the sections (after the header, before the metadata) so most flips reach the reads.
                copy[128 + random.Next(copy.Length - 1024)] ^= (byte)random.Next(1, 256);
                File.WriteAllBytes(path, copy);
                if (Probe(path, $"32-bit flip {f}") == Outcome.VerifyFailed) verifyFailed++;
            }
            Assert.That(verifyFailed, Is.GreaterThan(60));
        }
        finally { (_contexts, _bytes) = saved; }
    }

    private static void Rechecksum(byte[] copy, FixedHeader header)
    {
        var metadata = copy.AsSpan((int)header.MetadataOffset, (int)header.MetadataLength);
        BinaryPrimitives.WriteUInt64LittleEndian(copy.AsSpan(64), XxHash3.HashToUInt64(metadata));
        RechecksumHeader(copy);
    }

    private static void RechecksumHeader(byte[] copy)
        => BinaryPrimitives.WriteUInt64LittleEndian(copy.AsSpan(DatastoreLayout.HeaderChecksumOffset),
            XxHash3.HashToUInt64(copy.AsSpan(0, DatastoreLayout.HeaderChecksumOffset)));
}
