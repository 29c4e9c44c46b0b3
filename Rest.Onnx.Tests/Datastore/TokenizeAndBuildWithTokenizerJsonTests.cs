using System.Text.Json;
using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Datastore.Format;
using Rest.Onnx.Datastore.Reading;
using Rest.Onnx.Datastore.Tool;
using Rest.Onnx.Datastore.Tool.Commands;
using Rest.Onnx.Tests.Tokenization;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Tests.Datastore;

/// <summary>rest-datastore tokenize, and datastores built from text with every supported tokenizer kind.</summary>
public class TokenizeAndBuildWithTokenizerJsonTests
{
    private const string Code = "def add(a, b):\r\n\treturn a + b   \n\n   # odd indent\n中文 😀 𝐀 1234567\n";
    private TempStore _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempStore();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    private static string TokenizerPath(string name) => name == "demo" ? TokenizerTestFiles.DemoTokenizer : HfTokenizerFiles.Committed(name);

    [TestCase("qwen3")]
    [TestCase("mistral")]
    [TestCase("demo")]
    public void TokenizePrintsTheIdsOfTheTextExactly(string name)
    {
        var tokenizer = HfTokenizerFiles.Load(TokenizerPath(name));
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.That(TokenizeCommand.Run(TokenizerPath(name), Code, null, json: false, output, error), Is.Zero, error.ToString());
        Assert.That(output.ToString().Trim().Split(' ').Select(int.Parse), Is.EqualTo(tokenizer.Encode(Code)));

        var file = _temp.PathOf("code.py");
        File.WriteAllText(file, Code);
        using var jsonOut = new StringWriter();
        Assert.That(TokenizeCommand.Run(TokenizerPath(name), null, file, json: true, jsonOut, error), Is.Zero, error.ToString());
        using var doc = JsonDocument.Parse(jsonOut.ToString());
        var ids = doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.That(ids, Is.EqualTo(tokenizer.Encode(Code)));
        Assert.That(ids, Does.Not.Contain(tokenizer.BosId).And.Not.Contain(tokenizer.EosId));
        Assert.That(doc.RootElement.GetProperty("fingerprint").GetString(), Is.EqualTo(tokenizer.Fingerprint));
    }

    [Test]
    public void TokenizeMatchesTheGoldenIdsThroughTheCommandLine()
    {
        var golden = HfTokenizerFiles.ReadGolden("qwen3").Cases.First(c => c.Text.Contains("<|im_start|>", StringComparison.Ordinal));
        var (code, output, error) = RunCli("tokenize", "--tokenizer", HfTokenizerFiles.Committed("qwen3"), "--json", golden.Text);
        Assert.That(code, Is.Zero, error);
        using var doc = JsonDocument.Parse(output);
        Assert.That(doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(golden.Ids));
    }

    private static (int Code, string Out, string Error) RunCli(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = Program.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Test]
    public void BuildAndInfoFromTheCommandLineWithATokenizerJson()
    {
        // The failing command: build --tokenizer tokenizer.json used to report "malformed protobuf".
        var text = _temp.PathOf("code.py");
        File.WriteAllText(text, Code);
        var store = _temp.PathOf("cli.restds");
        var tokenizer = HfTokenizerFiles.Committed("qwen3");
        var (code, _, error) = RunCli("build", "--tokenizer", tokenizer, "--output", store, "--quiet", text);
        Assert.That(code, Is.Zero, error);
        (code, var info, error) = RunCli("info", store, "--tokenizer", tokenizer, "--json");
        Assert.That(code, Is.Zero, error);
        using var doc = JsonDocument.Parse(info);
        Assert.That(doc.RootElement.GetProperty("tokenWidthBytes").GetInt32(), Is.EqualTo(4));
        Assert.That(doc.RootElement.GetProperty("tokenizer").GetProperty("matches").GetBoolean(), Is.True);
        Assert.That(doc.RootElement.GetProperty("tokenizer").GetProperty("format").GetString(), Is.EqualTo("tokenizer.json"));
        (code, info, _) = RunCli("info", store, "--tokenizer", HfTokenizerFiles.Committed("mistral"));
        Assert.That(code, Is.Zero);
        Assert.That(info, Does.Contain("tokenizer matches:     NO"));
    }

    [Test]
    public void TokenizeReportsBadInputWithExitCodes()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        Assert.That(TokenizeCommand.Run(HfTokenizerFiles.Committed("mistral"), "x", _temp.PathOf("f"), false, output, error), Is.EqualTo(2));
        Assert.That(TokenizeCommand.Run("", "x", null, false, output, error), Is.EqualTo(2));
        Assert.That(TokenizeCommand.Run(HfTokenizerFiles.Committed("mistral"), null, _temp.PathOf("missing.txt"), false, output, error), Is.EqualTo(1));
        var wordPiece = _temp.PathOf("tokenizer.json");
        File.WriteAllText(wordPiece, """{"model":{"type":"WordPiece","vocab":{"a":0}}}""");
        error.GetStringBuilder().Clear();
        Assert.That(TokenizeCommand.Run(wordPiece, "x", null, false, output, error), Is.EqualTo(1));
        Assert.That(error.ToString(), Does.Contain("model type 'WordPiece' is not supported"));
        Assert.That(error.ToString().Trim().Split('\n'), Has.Length.EqualTo(1));
    }

    [TestCase("qwen3", 4)]
    [TestCase("mistral", 2)]
    [TestCase("demo", 2)]
    public void BuildFromTextStoresTheTokenizersIdsAtTheRightWidth(string name, int width)
    {
        var tokenizer = HfTokenizerFiles.Load(TokenizerPath(name));
        var docs = new[] { Code, "The quick brown fox<|im_end|> jumps.\n", "    return x  # 𝐀𝐁 ٣٤ \t\n" };
        var files = docs.Select((d, i) =>
        {
            var path = _temp.PathOf($"in/{i}.txt");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, d);
            return path;
        }).ToList();
        var separator = tokenizer.EosId;
        Assert.That(separator, Is.GreaterThanOrEqualTo(0));
        var store = _temp.PathOf("store.restds");
        CorpusBuilder.Build(store, files, new CorpusOptions { Format = CorpusFormat.Text, Parallelism = 2 },
            new DatastoreBuildOptions { VocabularySize = tokenizer.VocabularySize, Separator = separator, TokenizerFingerprint = tokenizer.Fingerprint },
            tokenizer);

        var expected = new List<int>();
        foreach (var d in docs)
        {
            if (expected.Count > 0) expected.Add(separator);
            expected.AddRange(tokenizer.Encode(d));
        }
        using var reader = DatastoreReader.Open(store, tokenizer.Fingerprint);
        Assert.That(reader.TokenWidth, Is.EqualTo(width));
        Assert.That(reader.VocabularySize, Is.EqualTo(tokenizer.VocabularySize));
        Assert.That(TempStore.AllTokens(reader), Is.EqualTo(expected));
        if (width == 4) Assert.That(expected.Max(), Is.GreaterThan(65_535), "the 32-bit path must see ids above 16 bits");

        // Another tokenizer's fingerprint keeps today's mismatch error.
        var other = HfTokenizerFiles.Load(TokenizerPath(name == "qwen3" ? "mistral" : "qwen3"));
        Assert.Throws<TokenizerMismatchException>(() => DatastoreReader.Open(store, other.Fingerprint));
    }

    [Test]
    public void BuildWithTheLlama3TokenizerGivesA32BitStore()
    {
        var path = HfTokenizerFiles.PathFor("llama3", out var reason);
        if (path is null) Assert.Ignore(reason);
        var tokenizer = HfTokenizerFiles.Load(path);
        var file = _temp.PathOf("code.py");
        File.WriteAllText(file, Code);
        var store = _temp.PathOf("llama3.restds");
        CorpusBuilder.Build(store, [file], new CorpusOptions { Format = CorpusFormat.Text },
            new DatastoreBuildOptions { VocabularySize = tokenizer.VocabularySize, Separator = tokenizer.EosId, TokenizerFingerprint = tokenizer.Fingerprint },
            tokenizer);
        using var reader = DatastoreReader.Open(store, tokenizer.Fingerprint);
        Assert.That(reader.VocabularySize, Is.EqualTo(128_256));
        Assert.That(reader.TokenWidth, Is.EqualTo(4));
        Assert.That(TempStore.AllTokens(reader), Is.EqualTo(tokenizer.Encode(Code)));
    }
}
