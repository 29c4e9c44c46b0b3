using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Datastore.Reading;

namespace Rest.Onnx.Tests.Datastore;

public class CorpusBuilderTests
{
    private TempStore _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempStore();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    /// <summary>A stand-in tokenizer: one id per character (a..z = 1..26, anything else 27).</summary>
    private static int[] Letters(string text) => text.Select(c => c is >= 'a' and <= 'z' ? c - 'a' + 1 : 27).ToArray();

    private string Write(string relative, string content)
    {
        var path = _temp.PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    [Test]
    public void FoldersAreSearchedRecursivelyWithThePatternInOrdinalOrder()
    {
        Write("in/b.txt", "bb");
        Write("in/a.txt", "aa");
        Write("in/sub/c.txt", "cc");
        Write("in/skip.md", "zz");
        var files = CorpusBuilder.ResolveInputs([_temp.PathOf("in")], "*.txt");
        Assert.That(files.Select(Path.GetFileName), Is.EqualTo(new[] { "a.txt", "b.txt", "c.txt" }));
        Assert.Throws<DatastoreBuildException>(() => CorpusBuilder.ResolveInputs([_temp.PathOf("missing")]));
    }

    [Test]
    public void TextFilesAreDocumentsJoinedBySeparatorInInputOrderForAnyThreadCount()
    {
        var files = Enumerable.Range(0, 40).Select(i => Write($"t/{i:D2}.txt", new string((char)('a' + i % 26), i % 5 + 1))).ToList();
        var options = new DatastoreBuildOptions { VocabularySize = 30, Separator = 0 };
        var expected = new List<int>();
        foreach (var f in files)
        {
            if (expected.Count > 0) expected.Add(0);
            expected.AddRange(Letters(File.ReadAllText(f)));
        }
        foreach (var threads in new[] { 1, 2, 4 })
        {
            var output = _temp.PathOf($"text{threads}.rds");
            var summary = CorpusBuilder.BuildWithEncoder(output, files, new CorpusOptions { Parallelism = threads }, options, Letters, null, default);
            Assert.That(summary.Documents, Is.EqualTo(40));
            using var reader = DatastoreReader.Open(output);
            Assert.That(TempStore.AllTokens(reader), Is.EqualTo(expected.ToArray()));
        }
    }

    [Test]
    public void JsonlTakesTheChosenFieldAndNamesBadLines()
    {
        var file = Write("d.jsonl", "{\"body\":\"abc\",\"x\":1}\n\n{\"body\":\"de\"}\n");
        var options = new DatastoreBuildOptions { VocabularySize = 30, Separator = 0 };
        var output = _temp.PathOf("j.rds");
        CorpusBuilder.BuildWithEncoder(output, [file], new CorpusOptions { Format = CorpusFormat.Jsonl, JsonField = "body" }, options, Letters, null, default);
        using (var reader = DatastoreReader.Open(output))
            Assert.That(TempStore.AllTokens(reader), Is.EqualTo(new[] { 1, 2, 3, 0, 4, 5 }));

        var bad = Write("bad.jsonl", "{\"body\":\"abc\"}\n{\"text\":\"x\"}\n");
        var e = Assert.Throws<DatastoreBuildException>(() =>
            CorpusBuilder.BuildWithEncoder(_temp.PathOf("bad.rds"), [bad], new CorpusOptions { Format = CorpusFormat.Jsonl, JsonField = "body" }, options, Letters, null, default));
        Assert.That(e!.Message, Does.Contain("bad.jsonl:2"));
        Assert.That(e.Message, Does.Contain("'body'"));
        Assert.That(File.Exists(_temp.PathOf("bad.rds")), Is.False);
    }

    [Test]
    public void PreTokenizedLinesAreDocuments()
    {
        var file = Write("ids.txt", "5 6 7\n\n  8\t9 \n");
        var output = _temp.PathOf("p.rds");
        CorpusBuilder.BuildWithEncoder(output, [file], new CorpusOptions { Format = CorpusFormat.PreTokenized },
            new DatastoreBuildOptions { VocabularySize = 10 }, null, null, default);
        using var reader = DatastoreReader.Open(output);
        Assert.That(TempStore.AllTokens(reader), Is.EqualTo(new[] { 5, 6, 7, 8, 9 }));
    }

    [Test]
    public void PreTokenizedErrorsNameFileAndLine()
    {
        var file = Write("ids.txt", "1 2\n3 x4\n");
        var e = Assert.Throws<DatastoreBuildException>(() => CorpusBuilder.BuildWithEncoder(_temp.PathOf("p.rds"), [file],
            new CorpusOptions { Format = CorpusFormat.PreTokenized }, new DatastoreBuildOptions { VocabularySize = 10 }, null, null, default));
        Assert.That(e!.Message, Does.Contain("ids.txt:2"));
        Assert.That(e.Message, Does.Contain("'x4'"));

        var big = Write("big.txt", "1 2\n3 12\n");
        e = Assert.Throws<DatastoreBuildException>(() => CorpusBuilder.BuildWithEncoder(_temp.PathOf("p.rds"), [big],
            new CorpusOptions { Format = CorpusFormat.PreTokenized }, new DatastoreBuildOptions { VocabularySize = 10 }, null, null, default));
        Assert.That(e!.Message, Does.Contain("big.txt:2"));
        Assert.That(e.Message, Does.Contain("Token id 12"));
        Assert.That(Directory.GetFiles(_temp.Folder, "*.rds*"), Is.Empty);
    }

    [Test]
    public void UnreadableInputIsAClearError()
    {
        var folder = _temp.PathOf("a-folder-not-a-file");
        Directory.CreateDirectory(folder);
        var e = Assert.Throws<DatastoreBuildException>(() => CorpusBuilder.BuildWithEncoder(_temp.PathOf("u.rds"), [folder],
            new CorpusOptions(), new DatastoreBuildOptions { VocabularySize = 30 }, Letters, null, default));
        Assert.That(e!.Message, Does.Contain("Cannot read input"));
        Assert.That(File.Exists(_temp.PathOf("u.rds")), Is.False);
    }

    [Test]
    public void ProgressReportsPhasesAndCounts()
    {
        var file = Write("ids.txt", string.Join("\n", Enumerable.Range(0, 50).Select(i => $"{i % 9} {(i + 1) % 9}")));
        var reports = new List<DatastoreBuildProgress>();
        var progress = new SynchronousProgress(reports.Add);
        CorpusBuilder.BuildWithEncoder(_temp.PathOf("g.rds"), [file], new CorpusOptions { Format = CorpusFormat.PreTokenized },
            new DatastoreBuildOptions { VocabularySize = 10 }, null, progress, default);
        Assert.That(reports.Select(r => r.Phase), Does.Contain(DatastoreBuildPhase.SuffixArray));
        Assert.That(reports[^1].Phase, Is.EqualTo(DatastoreBuildPhase.Done));
        Assert.That(reports[^1].Tokens, Is.EqualTo(100));
        Assert.That(reports[^1].Files, Is.EqualTo(1));
    }

    private sealed class SynchronousProgress(Action<DatastoreBuildProgress> report) : IProgress<DatastoreBuildProgress>
    {
        public void Report(DatastoreBuildProgress value) => report(value);
    }
}
