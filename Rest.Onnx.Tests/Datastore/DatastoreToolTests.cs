using System.Text.Json;
using Rest.Onnx.Datastore.Reading;
using Rest.Onnx.Datastore.Search;
using DatastoreTool = Rest.Onnx.Datastore.Tool.Program;
using Rest.Onnx.Tests.Runtime;

namespace Rest.Onnx.Tests.Datastore;

/// <summary>The rest-datastore command line, run in process with its own output writers.</summary>
public sealed class DatastoreToolTests
{
    private static readonly int[][] Documents = [[5, 6, 7, 8, 9, 5, 6, 7, 10], [5, 6, 7, 8, 11, 12]];
    private TempStore _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempStore();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    private static (int Code, string Out, string Error) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        return (DatastoreTool.Run(args, output, error), output.ToString(), error.ToString());
    }

    private string BuildFromIds()
    {
        var ids = _temp.PathOf("ids.txt");
        File.WriteAllLines(ids, Documents.Select(d => string.Join(' ', d)));
        var store = _temp.PathOf("ids.restds");
        var (code, _, error) = Run("build", "--format", "ids", "--vocab-size", "64", "--output", store, ids);
        Assert.That(code, Is.Zero, error);
        return store;
    }

    [Test]
    public void BuildInfoVerifyAndQueryAgreeWithTheCorpus()
    {
        var store = BuildFromIds();

        var (code, info, _) = Run("info", store, "--json");
        Assert.That(code, Is.Zero);
        using (var doc = JsonDocument.Parse(info))
        {
            Assert.That(doc.RootElement.GetProperty("tokens").GetInt64(), Is.EqualTo(Documents.Sum(d => d.Length)));
            Assert.That(doc.RootElement.GetProperty("vocabularySize").GetInt32(), Is.EqualTo(64));
            Assert.That(doc.RootElement.GetProperty("tokenWidthBytes").GetInt32(), Is.EqualTo(2));
        }
        Assert.That(Run("info", store, "--verify").Code, Is.Zero);

        var (queryCode, query, queryError) = Run("query", store, "--ids", "1 5 6 7", "--json");
        Assert.That(queryCode, Is.Zero, queryError);
        using var result = JsonDocument.Parse(query);
        var root = result.RootElement;
        Assert.That(root.GetProperty("matchedSuffixLength").GetInt32(), Is.EqualTo(3), "'1 5 6 7' never occurs, '5 6 7' does");
        var naive = Documents.SelectMany(d => d).ToArray();
        var occurrences = Enumerable.Range(0, naive.Length - 2).Count(i => naive[i] == 5 && naive[i + 1] == 6 && naive[i + 2] == 7);
        Assert.That(root.GetProperty("occurrences").GetInt64(), Is.EqualTo(occurrences));

        // The printed tree is the library's tree for the same prompt.
        using var reader = DatastoreReader.Open(store);
        var expected = new DraftTree(64);
        new DatastoreSearcher(reader, DraftOptions.Default).BuildDraft([1, 5, 6, 7], expected);
        var nodes = root.GetProperty("tree").EnumerateArray().ToList();
        Assert.That(nodes.Select(n => n.GetProperty("token").GetInt32()), Is.EqualTo(expected.Tokens.ToArray()));
        Assert.That(nodes.Select(n => n.GetProperty("parent").GetInt32()), Is.EqualTo(expected.Parents.ToArray()));
    }

    [Test]
    public void VerifyNamesTheCorruptSection()
    {
        var store = BuildFromIds();
        var bytes = File.ReadAllBytes(store);
        bytes[128] ^= 0x01; // the first shard's token array starts right after the 128-byte header
        File.WriteAllBytes(store, bytes);
        var (code, _, error) = Run("info", store, "--verify");
        Assert.That(code, Is.Not.Zero);
        Assert.That(error, Does.Contain("checksum").IgnoreCase);
    }

    [Test]
    public void TextBuildAndQueryWithTheDemoTokenizer()
    {
        var tokenizer = TinyModels.DemoTokenizerPath();
        var source = _temp.PathOf("code.py");
        File.WriteAllText(source, "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n");
        var store = _temp.PathOf("text.restds");
        var (code, _, error) = Run("build", "--tokenizer", tokenizer, "--output", store, source);
        Assert.That(code, Is.Zero, error);
        var (queryCode, query, queryError) = Run("query", store, "--tokenizer", tokenizer, "--json", "def sub(a, b):");
        Assert.That(queryCode, Is.Zero, queryError);
        using var result = JsonDocument.Parse(query);
        Assert.That(result.RootElement.GetProperty("matchedSuffixLength").GetInt32(), Is.GreaterThanOrEqualTo(2));
        Assert.That(result.RootElement.GetProperty("tree").GetArrayLength(), Is.GreaterThan(0));
    }

    [Test]
    public void UsageErrorsAndHelp()
    {
        Assert.That(Run().Code, Is.EqualTo(2));
        var (code, _, error) = Run("frobnicate");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(error, Does.Contain("unknown verb 'frobnicate'"));
        foreach (var verb in new[] { "build", "info", "query" })
        {
            var help = Run(verb, "--help");
            Assert.That(help.Code, Is.Zero, verb);
            Assert.That(help.Out, Does.Contain("Usage:").And.Contain($"rest-datastore {verb}"));
        }
        var missing = Run("info", _temp.PathOf("missing.restds"));
        Assert.That(missing.Code, Is.Not.Zero);
        Assert.That(missing.Error, Does.Contain("missing.restds"));
    }

    [Test]
    public void MisspelledOptionsAndBadValuesAreUsageErrorsNamingTheOption()
    {
        var store = BuildFromIds();
        foreach (var (args, named) in new (string[], string)[]
                 {
                     (["info", store, "--verfy"], "--verfy"),
                     (["build", "--output", store, "--quite", "x.txt"], "--quite"),
                     (["query", store, "--ids", "1 2", "--budgte", "4"], "--budgte"),
                     (["query", store, "--ids", "1 x"], "--ids"),
                     (["query", store, "--ids", "1", "--k", "0"], "--k"),
                     (["query", store, "--ids", "1", "--mode", "fast"], "--mode"),
                     (["build", "--output", store, "--format", "ids", "--vocab-size", "abc", "x.txt"], "--vocab-size"),
                     (["build", "--output", store, "--format", "ids", "--vocab-size", "64", "--separator", "-3", "x.txt"], "--separator"),
                 })
        {
            var (code, output, error) = Run(args);
            Assert.That(code, Is.EqualTo(2), string.Join(' ', args));
            Assert.That(error, Does.Contain(named), string.Join(' ', args));
            Assert.That(output, Is.Empty);
        }
    }

    [Test]
    public void RuntimeFailureIsOneLineOnStderr()
    {
        var (code, output, error) = Run("build", "--format", "ids", "--vocab-size", "64", "--output", _temp.PathOf("x.restds"), _temp.PathOf("no-such-input.txt"));
        Assert.That(code, Is.EqualTo(1));
        Assert.That(output, Is.Empty);
        Assert.That(error.TrimEnd().Split('\n'), Has.Length.EqualTo(1), error);
        Assert.That(error, Does.Contain("no-such-input.txt"));
    }
}
