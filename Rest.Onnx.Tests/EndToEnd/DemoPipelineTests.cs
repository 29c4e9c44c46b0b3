using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Datastore.Search;
using Rest.Onnx.DemoModel.Corpus;
using Rest.Onnx.Export;

namespace Rest.Onnx.Tests.EndToEnd;

/// <summary>
/// The whole pipeline at small scale on the committed demo model: export the checkpoint, build a datastore
/// from a slice of the demo corpus with the model's tokenizer, and check that REST and prompt lookup
/// reproduce plain greedy decoding token for token on held-out dev prompts.
/// </summary>
public sealed class DemoPipelineTests
{
    private const int PromptCount = 4;
    private const int NewTokens = 48;
    private string _root = "";
    private string _modelFolder = "";
    private string _datastorePath = "";
    private List<string> _prompts = [];

    [OneTimeSetUp]
    public void ExportAndBuild()
    {
        var repo = Tokenization.TokenizerTestFiles.RepositoryRoot;
        var checkpoint = Path.Combine(repo, "export", "demo-model", "checkpoint");
        Assert.That(File.Exists(Path.Combine(checkpoint, "model.safetensors")), Is.True, $"The committed demo checkpoint is missing in {checkpoint}.");
        Assume.That(Directory.Exists(DemoCorpus.DefaultRoot), $"The demo corpus {DemoCorpus.DefaultRoot} (Debian's libpython3.11-stdlib) is not installed.");

        _root = Directory.CreateTempSubdirectory("rest-demo-pipeline-").FullName;
        _modelFolder = Path.Combine(_root, "model");
        LlamaExporter.Export(checkpoint, _modelFolder);

        using var model = RestModel.Load(_modelFolder);
        var tokenizer = model.Tokenizer!;
        // A small store: every 10th training file keeps the build to a few seconds.
        var files = DemoCorpus.Scan().Training.Where((_, i) => i % 10 == 0).Select(f => f.FullPath).ToList();
        _datastorePath = Path.Combine(_root, "small.restds");
        CorpusBuilder.Build(_datastorePath, files, new CorpusOptions { Format = CorpusFormat.Text },
            new DatastoreBuildOptions { VocabularySize = tokenizer.VocabularySize, Separator = tokenizer.EosId, TokenizerFingerprint = tokenizer.Fingerprint },
            tokenizer);

        _prompts = File.ReadLines(Path.Combine(repo, "export", "demo-model", "dev-prompts.jsonl"))
            .Take(PromptCount)
            .Select(line => System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("prompt").GetString()!)
            .ToList();
    }

    [OneTimeTearDown]
    public void Delete()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [TestCase("rest", 8)]
    [TestCase("rest", 64)]
    [TestCase("promptlookup", 16)]
    [TestCase("hybrid", 16)]
    [TestCase("rest", DraftOptions.AutoBudget)]
    [TestCase("promptlookup", DraftOptions.AutoBudget)]
    [TestCase("hybrid", DraftOptions.AutoBudget)]
    [TestCase("hybrid+history", DraftOptions.AutoBudget)]
    public void DraftingReproducesGreedy(string strategy, int budget)
    {
        using var model = RestModel.Load(_modelFolder);
        using var store = model.OpenDatastore(_datastorePath);
        using var generator = model.CreateGenerator();
        var greedy = new GenerationOptions { MaxNewTokens = NewTokens };
        var drafting = greedy with
        {
            Drafting = strategy switch { "rest" => DraftingStrategy.Rest(store), "hybrid" or "hybrid+history" => DraftingStrategy.Hybrid(store), _ => DraftingStrategy.PromptLookup },
            Draft = new DraftOptions { Budget = budget },
            DraftFromHistory = strategy.EndsWith("+history", StringComparison.Ordinal),
        };
        foreach (var prompt in _prompts)
        {
            var expected = generator.Generate(prompt, greedy);
            var actual = generator.Generate(prompt, drafting);
            Assert.That(actual.Tokens, Is.EqualTo(expected.Tokens), $"{strategy}@{budget} differs from greedy on: {prompt}");
            Assert.That(actual.Text, Is.EqualTo(expected.Text));
            Assert.That(actual.Statistics.VerificationSteps, Is.LessThanOrEqualTo(expected.Statistics.VerificationSteps));
        }
    }

    [Test]
    public void DatastoreFromAnotherTokenizerIsRefused()
    {
        using var model = RestModel.Load(_modelFolder);
        var other = Path.Combine(_root, "other.restds");
        var ids = Path.Combine(_root, "ids.txt");
        File.WriteAllText(ids, "5 6 7 8 9 10\n");
        CorpusBuilder.Build(other, [ids], new CorpusOptions { Format = CorpusFormat.PreTokenized },
            new DatastoreBuildOptions { VocabularySize = model.Tokenizer!.VocabularySize, TokenizerFingerprint = "xxh3-64:0000000000000000" }, null);
        var e = Assert.Catch(() => model.OpenDatastore(other));
        Assert.That(e!.Message, Does.Contain("xxh3-64:0000000000000000"));
    }
}
