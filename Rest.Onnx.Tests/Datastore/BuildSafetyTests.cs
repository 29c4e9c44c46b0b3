using System.Diagnostics;
using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Datastore.Reading;
using Rest.Onnx.Datastore.SuffixArrays;

namespace Rest.Onnx.Tests.Datastore;

/// <summary>Builds never destroy a file, never hang on an input, and say what they skipped.</summary>
public class BuildSafetyTests
{
    private static readonly DatastoreBuildOptions Ids = new() { VocabularySize = 10 };
    private static readonly CorpusOptions IdFormat = new() { Format = CorpusFormat.PreTokenized };
    private TempStore _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempStore();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    private string Write(string name, string text)
    {
        var path = _temp.PathOf(name);
        File.WriteAllText(path, text);
        return path;
    }

    private static int[] Letters(string text) => [.. text.Select(c => c is >= 'a' and <= 'z' ? c - 'a' + 1 : 0)];

    internal static string MakeFifo(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        mkfifo.WaitForExit();
        Assert.That(mkfifo.ExitCode, Is.Zero, "mkfifo");
        return path;
    }

    [Test]
    public void ADeviceOutputIsRefusedAndLeftAlone()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("/dev/null is a Linux device here.");
        var input = Write("a.ids", "1 2 3");
        var e = Assert.Throws<DatastoreBuildException>(() => CorpusBuilder.BuildWithEncoder("/dev/null", [input], IdFormat, Ids, null, null, default));
        Assert.That(e!.Message, Does.Contain("'/dev/null' is a character device, not a regular file"));
        Assert.That(Rest.Onnx.Datastore.Format.FileKinds.Of("/dev/null"), Is.EqualTo(Rest.Onnx.Datastore.Format.FileKind.CharacterDevice));
        Assert.That(Directory.GetFiles("/dev", "null.*.tmp"), Is.Empty);
    }

    [Test]
    public void AFifoOutputIsRefused()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("FIFOs are a Unix feature.");
        var fifo = MakeFifo(_temp.PathOf("out.rds"));
        var e = Assert.Throws<DatastoreBuildException>(() => DatastoreWriter.Create(fifo, Ids).Dispose());
        Assert.That(e!.Message, Does.Contain("FIFO"));
        Assert.That(Directory.GetFiles(_temp.Folder, "*.tmp"), Is.Empty);
    }

    [Test]
    public void AnOutputThatIsAnInputIsRefusedWhateverItsName()
    {
        var input = Write("same.ids", "1 2 3\n4 5 6");
        var before = File.ReadAllBytes(input);
        var link = _temp.PathOf("link.ids");
        File.CreateSymbolicLink(link, input);
        var names = new List<string> { input, Path.Combine(_temp.Folder, ".", "same.ids"), link };
        if (OperatingSystem.IsLinux())
        {
            var hard = _temp.PathOf("hard.ids");
            using var ln = Process.Start(new ProcessStartInfo("ln", [input, hard]) { UseShellExecute = false })!;
            ln.WaitForExit();
            names.Add(hard);
        }
        foreach (var output in names)
        {
            var e = Assert.Throws<DatastoreBuildException>(() => CorpusBuilder.BuildWithEncoder(output, [input], IdFormat, Ids, null, null, default), output);
            Assert.That(e!.Message, Does.Contain("the build would overwrite its own input"), output);
        }
        Assert.That(File.ReadAllBytes(input), Is.EqualTo(before));
    }

    [Test]
    public void ASymlinkOutputWritesItsTargetAndKeepsTheLink()
    {
        var input = Write("a.ids", "1 2 3\n4 5 6");
        var target = _temp.PathOf("real.rds");
        File.WriteAllText(target, "old");
        var link = _temp.PathOf("current.rds");
        File.CreateSymbolicLink(link, target);
        CorpusBuilder.BuildWithEncoder(link, [input], IdFormat, Ids, null, null, default);
        Assert.That(new FileInfo(link).LinkTarget, Is.EqualTo(target), "the link is still a link");
        using (var reader = DatastoreReader.Open(target)) Assert.That(reader.TokenCount, Is.EqualTo(6));

        // A dangling link names the file to create.
        var dangling = _temp.PathOf("next.rds");
        File.CreateSymbolicLink(dangling, _temp.PathOf("not-yet.rds"));
        CorpusBuilder.BuildWithEncoder(dangling, [input], IdFormat, Ids, null, null, default);
        Assert.That(File.Exists(_temp.PathOf("not-yet.rds")), Is.True);
    }

    [Test]
    public void AFifoAmongInputsIsSkippedWithAWarningInsteadOfBlocking()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("FIFOs are a Unix feature.");
        var folder = Path.Combine(_temp.Folder, "inputs");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "a.txt"), "abc abc");
        MakeFifo(Path.Combine(folder, "b.txt"));
        var warnings = new List<string>();
        var progress = new Sync(p => { if (p.Warning is { } w) warnings.Add(w); });
        var files = CorpusBuilder.ResolveInputs([folder]);
        var build = Task.Run(() => CorpusBuilder.BuildWithEncoder(_temp.PathOf("f.rds"), files, new CorpusOptions(), new DatastoreBuildOptions { VocabularySize = 30 }, Letters, progress, default));
        Assert.That(build.Wait(TimeSpan.FromSeconds(30)), Is.True, "the build did not block on the FIFO");
        Assert.That(build.Result.SkippedSpecialFiles, Is.EqualTo(1));
        Assert.That(warnings, Has.One.Contains("b.txt").And.Contains("FIFO"));
        Assert.That(build.Result.Tokens, Is.EqualTo(7));
    }

    [Test]
    public void BinaryAndInvalidUtf8InputsAreCountedAndOptionallySkipped()
    {
        var good = Write("good.txt", "abc");
        var binary = _temp.PathOf("binary.bin");
        File.WriteAllBytes(binary, [0x61, 0x00, 0x62]);
        var latin1 = _temp.PathOf("latin1.txt");
        File.WriteAllBytes(latin1, [0x61, 0xE9, 0x62]);
        var warnings = new List<string>();
        var progress = new Sync(p => { if (p.Warning is { } w) warnings.Add(w); });
        var options = new DatastoreBuildOptions { VocabularySize = 30 };

        var kept = CorpusBuilder.BuildWithEncoder(_temp.PathOf("k.rds"), [good, binary, latin1], new CorpusOptions(), options, Letters, progress, default);
        Assert.That(kept.InvalidTextFiles, Is.EqualTo(2));
        Assert.That(kept.SkippedInvalidTextFiles, Is.Zero);
        Assert.That(kept.Tokens, Is.EqualTo(3 + 3 + 3));
        Assert.That(warnings, Has.Some.Contains("binary.bin").And.Contains("looks binary"));
        Assert.That(warnings, Has.Some.Contains("latin1.txt").And.Contains("not valid UTF-8 (first bad byte at offset 1)"));

        var skipped = CorpusBuilder.BuildWithEncoder(_temp.PathOf("s.rds"), [good, binary, latin1], new CorpusOptions { SkipInvalidText = true }, options, Letters, null, default);
        Assert.That(skipped.SkippedInvalidTextFiles, Is.EqualTo(2));
        Assert.That(skipped.Tokens, Is.EqualTo(3));

        // UTF-16 with a byte-order mark is text, decoded as File.ReadAllText does.
        var utf16 = _temp.PathOf("utf16.txt");
        File.WriteAllText(utf16, "abc", new System.Text.UnicodeEncoding(bigEndian: false, byteOrderMark: true));
        var wide = CorpusBuilder.BuildWithEncoder(_temp.PathOf("w.rds"), [utf16], new CorpusOptions { SkipInvalidText = true }, options, Letters, null, default);
        Assert.That((wide.InvalidTextFiles, wide.Tokens), Is.EqualTo((0L, 3L)));

        // Line formats are checked by a streaming scan.
        var jsonl = _temp.PathOf("bad.jsonl");
        File.WriteAllBytes(jsonl, [.. "{\"text\": \"ab\"}\n{\"text\": \"a"u8.ToArray(), 0xFF, .. "\"}\n"u8.ToArray()]);
        var goodJsonl = Write("good.jsonl", "{\"text\": \"abc\"}\n");
        var lines = CorpusBuilder.BuildWithEncoder(_temp.PathOf("j.rds"), [goodJsonl, jsonl], new CorpusOptions { Format = CorpusFormat.Jsonl, SkipInvalidText = true }, options, Letters, null, default);
        Assert.That(lines.SkippedInvalidTextFiles, Is.EqualTo(1));
        Assert.That(lines.Tokens, Is.EqualTo(3));
    }

    [Test]
    public void CancellationRemovesTheTemporaryFile()
    {
        var files = Enumerable.Range(0, 5).Select(i => Write($"{i}.ids", string.Join("\n", Enumerable.Range(0, 2000).Select(j => $"{j % 9} {i}")))).ToList();
        using var cancel = new CancellationTokenSource();
        var progress = new Sync(p => { if (p.Files >= 1) cancel.Cancel(); });
        Assert.Throws<OperationCanceledException>(() => CorpusBuilder.BuildWithEncoder(_temp.PathOf("c.rds"), files, IdFormat, Ids, null, progress, cancel.Token));
        Assert.That(Directory.GetFiles(_temp.Folder, "*.tmp"), Is.Empty);
        Assert.That(File.Exists(_temp.PathOf("c.rds")), Is.False);
        // The same builder works again afterwards.
        var summary = CorpusBuilder.BuildWithEncoder(_temp.PathOf("c.rds"), files, IdFormat, Ids, null, null, default);
        Assert.That(summary.Documents, Is.EqualTo(10000));
    }

    [Test]
    public void AHugeDeclaredVocabularyCostsWhatTheInputNeeds()
    {
        // Vocabulary 2^31-1 with three ids: bucket arrays must follow the ids present, not the declared size.
        var peakBefore = Process.GetCurrentProcess().PeakWorkingSet64;
        var input = Write("few.ids", "5 2147483646 7 5 7");
        var summary = CorpusBuilder.BuildWithEncoder(_temp.PathOf("v.rds"), [input], IdFormat, new DatastoreBuildOptions { VocabularySize = int.MaxValue }, null, null, default);
        Assert.That(summary.Tokens, Is.EqualTo(5));
        using var process = Process.GetCurrentProcess();
        Assert.That(process.PeakWorkingSet64 - peakBefore, Is.LessThan(512L << 20), "peak memory grew by less than 512 MiB");
        using var reader = DatastoreReader.Open(_temp.PathOf("v.rds"), null, verifyChecksums: true);
        Assert.That(Enumerable.Range(0, 5).Select(reader.Shards[0].SuffixAt), Is.EqualTo(NaiveSuffixArray.Build([5, 2147483646, 7, 5, 7])));
    }

    [Test]
    public void SparseLargeIdsSortAsTheNaiveSuffixArray()
    {
        var random = new Random(31);
        int[] values = [3, 90_000, 1 << 30, int.MaxValue - 1, 17];
        var text = Enumerable.Range(0, 400).Select(_ => values[random.Next(values.Length)]).ToArray();
        Assert.That(SuffixArrayBuilder.Build(text, int.MaxValue), Is.EqualTo(NaiveSuffixArray.Build(text)));
    }

    private sealed class Sync(Action<DatastoreBuildProgress> report) : IProgress<DatastoreBuildProgress>
    {
        public void Report(DatastoreBuildProgress value) => report(value);
    }
}
