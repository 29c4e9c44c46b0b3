using System.IO.Hashing;
using System.Text;
using Rest.Onnx.DemoModel.Corpus;

namespace Rest.Onnx.Tests.DemoModel;

public class DemoCorpusTests
{
    private string _root = string.Empty;

    [SetUp]
    public void CreateTree()
    {
        _root = Directory.CreateTempSubdirectory("rest-corpus-").FullName;
        // Enough files that some land in the held-out twentieth.
        for (var i = 0; i < 120; i++) Write($"pkg{i % 7}/mod_{i}.py", $"x = {i}\n");
        Write("__pycache__/cached.py", "no\n");
        Write("site-packages/third_party.py", "no\n");
        Write("notes.txt", "not python\n");
        Write("big.py", new string('#', (int)DemoCorpus.MaxFileBytes + 1));
        File.CreateSymbolicLink(Path.Combine(_root, "link.py"), Path.Combine(_root, "pkg0", "mod_0.py"));
    }

    [TearDown]
    public void DeleteTree() => Directory.Delete(_root, recursive: true);

    private void Write(string relative, string text)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    [Test]
    public void SelectsOrdinaryPythonFilesOnly()
    {
        var corpus = DemoCorpus.Scan(_root);
        Assert.That(corpus.Files, Has.Count.EqualTo(120));
        Assert.That(corpus.Files.Select(f => f.RelativePath), Has.None.Contains("__pycache__").And.None.Contains("site-packages")
            .And.None.EqualTo("big.py").And.None.EqualTo("link.py").And.None.EqualTo("notes.txt"));
    }

    [Test]
    public void FilesAreInOrdinalOrderOfRelativePath()
    {
        var paths = DemoCorpus.Scan(_root).Files.Select(f => f.RelativePath).ToList();
        Assert.That(paths, Is.EqualTo(paths.Order(StringComparer.Ordinal)));
    }

    [Test]
    public void HeldOutIsExactlyThePathsWhoseHashIsZeroModTwenty()
    {
        var corpus = DemoCorpus.Scan(_root);
        var expected = corpus.Files.Where(f => XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(f.RelativePath)) % 20 == 0)
            .Select(f => f.RelativePath).ToList();
        Assert.That(expected, Is.Not.Empty, "the tree should produce some held-out files");
        Assert.That(corpus.HeldOut.Select(f => f.RelativePath), Is.EqualTo(expected));
        Assert.That(corpus.Training.Select(f => f.RelativePath), Is.EquivalentTo(corpus.Files.Select(f => f.RelativePath).Except(expected)));
        Assert.That(corpus.Training.Select(f => f.RelativePath).Intersect(corpus.HeldOut.Select(f => f.RelativePath)), Is.Empty);
    }

    [Test]
    public void ScanningTwiceGivesTheSameSplit()
    {
        var first = DemoCorpus.Scan(_root);
        var second = DemoCorpus.Scan(_root);
        Assert.That(second.HeldOut.Select(f => f.RelativePath), Is.EqualTo(first.HeldOut.Select(f => f.RelativePath)));
        Assert.That(second.Training.Select(f => f.RelativePath), Is.EqualTo(first.Training.Select(f => f.RelativePath)));
    }

    [Test]
    public void MissingRootIsNamed()
    {
        var missing = Path.Combine(_root, "nope");
        var e = Assert.Throws<DirectoryNotFoundException>(() => DemoCorpus.Scan(missing));
        Assert.That(e!.Message, Does.Contain(missing));
    }

    [Test]
    public void StandardLibrarySplitIsAboutOneTwentieth()
    {
        if (!Directory.Exists(DemoCorpus.DefaultRoot)) Assert.Ignore($"{DemoCorpus.DefaultRoot} is not installed here.");
        var corpus = DemoCorpus.Scan();
        Assert.That(corpus.Files, Has.Count.GreaterThan(500));
        Assert.That((double)corpus.HeldOut.Count / corpus.Files.Count, Is.InRange(0.02, 0.10));
        Assert.That(corpus.Training.Any(f => f.IsHeldOut), Is.False);
        Assert.That(corpus.HeldOut.All(f => f.IsHeldOut && DemoCorpus.IsHeldOut(f.RelativePath)), Is.True);
    }

    [Test]
    public void CommittedHeldOutListMatchesTheRule()
    {
        var listed = File.ReadAllLines(Path.Combine(Tokenization.TokenizerTestFiles.RepositoryRoot, "export", "demo-model", "heldout-files.txt"));
        Assert.That(listed, Is.Not.Empty);
        Assert.That(listed.All(DemoCorpus.IsHeldOut), Is.True);
        if (!Directory.Exists(DemoCorpus.DefaultRoot)) Assert.Ignore($"{DemoCorpus.DefaultRoot} is not installed here.");
        Assert.That(DemoCorpus.Scan().HeldOut.Select(f => f.RelativePath), Is.EqualTo(listed));
    }
}
