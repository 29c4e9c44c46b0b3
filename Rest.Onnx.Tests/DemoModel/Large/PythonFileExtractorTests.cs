using System.Formats.Tar;
using System.Text;
using Rest.Onnx.DemoModel.Corpus.Large;

namespace Rest.Onnx.Tests.DemoModel.Large;

public class PythonFileExtractorTests
{
    private string _dir = string.Empty;

    [SetUp]
    public void CreateFolder() => _dir = Directory.CreateTempSubdirectory("rest-extract-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    private static MemoryStream Tar(params TarEntry[] entries)
    {
        var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, TarEntryFormat.Gnu, leaveOpen: true))
            foreach (var e in entries) writer.WriteEntry(e);
        stream.Position = 0;
        return stream;
    }

    private static GnuTarEntry File(string name, string content)
        => new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) };

    [Test]
    public void OnlyRegularPythonFilesOutsidePycacheAreWrittenUnderTheFolder()
    {
        using var tar = Tar(
            new GnuTarEntry(TarEntryType.Directory, "./usr/lib/python3/dist-packages/pkg/"),
            File("./usr/lib/python3/dist-packages/pkg/__init__.py", "x = 1\n"),
            File("./usr/lib/python3/dist-packages/pkg/mod.py", "def f():\n    pass\n"),
            File("./usr/share/doc/pkg/README", "not code"),
            File("./usr/lib/python3/dist-packages/pkg/__pycache__/mod.cpython-311.py", "cache"),
            new GnuTarEntry(TarEntryType.SymbolicLink, "./usr/lib/python3/dist-packages/pkg/link.py") { LinkName = "/etc/passwd" });
        var result = PythonFileExtractor.Extract(tar, Path.Combine(_dir, "out"));
        Assert.That(result.Files, Is.EqualTo(new[] { "usr/lib/python3/dist-packages/pkg/__init__.py", "usr/lib/python3/dist-packages/pkg/mod.py" }));
        Assert.That(result.Bytes, Is.EqualTo(6 + 18));
        Assert.That(System.IO.File.ReadAllText(Path.Combine(_dir, "out", "usr/lib/python3/dist-packages/pkg/mod.py")), Is.EqualTo("def f():\n    pass\n"));
        Assert.That(System.IO.File.Exists(Path.Combine(_dir, "out", "usr/lib/python3/dist-packages/pkg/link.py")), Is.False);
    }

    [Test]
    public void PathsThatClimbOutOrAreAbsoluteAreRefusedAndCounted()
    {
        using var tar = Tar(File("../evil.py", "x"), File("./a/../../evil2.py", "x"), File("/tmp/evil3.py", "x"), File("./ok.py", "y"));
        var result = PythonFileExtractor.Extract(tar, Path.Combine(_dir, "out"));
        Assert.That(result.Files, Is.EqualTo(new[] { "ok.py" }));
        Assert.That(result.SkippedUnsafe, Is.EqualTo(3));
        Assert.That(Directory.GetFiles(_dir, "evil*.py", SearchOption.AllDirectories), Is.Empty);
    }

    [Test]
    public void ANonTarStreamIsInvalidData()
        => Assert.Throws<InvalidDataException>(() => PythonFileExtractor.Extract(new MemoryStream(Encoding.UTF8.GetBytes(new string('x', 2000))), Path.Combine(_dir, "out")));
}
