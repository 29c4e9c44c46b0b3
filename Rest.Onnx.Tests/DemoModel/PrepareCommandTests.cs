using System.Buffers.Binary;
using System.Text.Json;
using Rest.Onnx.DemoModel.Corpus;
using Rest.Onnx.Tests.Tokenization;
using Rest.Onnx.Tokenization;
using DemoModelTool = Rest.Onnx.DemoModel.Program;

namespace Rest.Onnx.Tests.DemoModel;

public class PrepareCommandTests
{
    private string _dir = string.Empty;

    [SetUp]
    public void CreateFolder() => _dir = Directory.CreateTempSubdirectory("rest-prepare-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    private static int Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        return DemoModelTool.Run(args, output, error);
    }

    private static int[] ReadIds(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var ids = new int[bytes.Length / 2];
        for (var i = 0; i < ids.Length; i++) ids[i] = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2 * i));
        return ids;
    }

    [Test]
    public void TokenFilesHoldEachSplitsDocumentsInOrderJoinedWithEos()
    {
        var corpusRoot = Path.Combine(_dir, "corpus");
        for (var i = 0; i < 60; i++)
        {
            var file = Path.Combine(corpusRoot, $"m{i:D2}.py");
            Directory.CreateDirectory(corpusRoot);
            File.WriteAllText(file, $"def f{i}(x):\n    \"\"\"Doc {i}.\"\"\"\n    return x  # {new string(' ', i % 5)}done\n");
        }
        var outDir = Path.Combine(_dir, "out");
        var prompts = Path.Combine(_dir, "prompts.jsonl");
        var rc = Run(["prepare", "--out", outDir, "--tokenizer", TokenizerTestFiles.DemoTokenizer, "--corpus", corpusRoot, "--prompts", prompts]);
        Assert.That(rc, Is.EqualTo(0));

        var tokenizer = TextTokenizer.Load(TokenizerTestFiles.DemoTokenizer);
        var corpus = DemoCorpus.Scan(corpusRoot);
        Assert.That(corpus.HeldOut, Is.Not.Empty);
        foreach (var (split, files) in new[] { ("train.bin", corpus.Training), ("valid.bin", corpus.HeldOut) })
        {
            var expected = new List<int>();
            foreach (var file in files)
            {
                tokenizer.Encode(File.ReadAllText(file.FullPath), expected);
                expected.Add(tokenizer.EosId);
            }
            Assert.That(ReadIds(Path.Combine(outDir, split)), Is.EqualTo(expected), split);
        }
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "manifest.json")));
        Assert.That(manifest.RootElement.GetProperty("tokenizerFingerprint").GetString(), Is.EqualTo(tokenizer.Fingerprint));
        Assert.That(manifest.RootElement.GetProperty("train").GetProperty("files").GetInt32(), Is.EqualTo(corpus.Training.Count));
        Assert.That(File.ReadAllLines(prompts).Length, Is.EqualTo(corpus.HeldOut.Count), "one prompt per held-out file here");
    }

    [Test]
    public void HeldOutStandardLibraryFilesRoundTripThroughTheTokenizer()
    {
        if (!Directory.Exists(DemoCorpus.DefaultRoot)) Assert.Ignore($"{DemoCorpus.DefaultRoot} is not installed here.");
        var tokenizer = TextTokenizer.Load(TokenizerTestFiles.DemoTokenizer);
        foreach (var file in DemoCorpus.Scan().HeldOut)
        {
            var text = file.ReadText();
            Assert.That(tokenizer.Decode(tokenizer.Encode(text)), Is.EqualTo(text), file.RelativePath);
        }
    }

    [Test]
    public void UnknownCommandFailsWithUsage()
    {
        Assert.That(Run(["frobnicate"]), Is.EqualTo(2));
        Assert.That(Run(["prepare"]), Is.EqualTo(2), "missing --out: a usage error since the tools share one convention");
    }
}
