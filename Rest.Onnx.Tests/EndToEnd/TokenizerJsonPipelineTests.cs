using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Export;
using Rest.Onnx.Export.Tiny;
using Rest.Onnx.Tests.Tokenization;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Tests.EndToEnd;

/// <summary>
/// A real tokenizer.json through the whole pipeline: a tiny random model whose vocabulary is Qwen3's
/// (151,669 ids: a 32-bit datastore) or Mistral's (32,000 ids, BOS added), exported with the tokenizer
/// beside it, a datastore built from text with that tokenizer, and REST and hybrid drafting reproducing
/// plain greedy decoding token for token on text prompts.
/// </summary>
[TestFixture("qwen3")]
[TestFixture("mistral")]
public sealed class TokenizerJsonPipelineTests(string name)
{
    private static readonly string[] Prompts =
    [
        "def add(a, b):\n\treturn a + b\n\n",
        "The quick brown fox jumps over",
        "   # odd indent\r\n   x = [1, 2,  3]   \r\n",
        "中文文本 😀 𝐀𝐁 12345",
    ];

    private string _root = "";
    private string _modelFolder = "";
    private string _store = "";
    private TextTokenizer _tokenizer = null!;

    [OneTimeSetUp]
    public void ExportAndBuild()
    {
        _root = Directory.CreateTempSubdirectory($"rest-hfjson-{name}-").FullName;
        var hf = Path.Combine(_root, "hf");
        Directory.CreateDirectory(hf);
        File.Copy(HfTokenizerFiles.Committed(name), Path.Combine(hf, "tokenizer.json"));
        var addBos = name == "mistral";
        File.WriteAllText(Path.Combine(hf, "tokenizer_config.json"), addBos
            ? """{"add_bos_token": true, "bos_token": "<s>", "eos_token": "</s>"}"""
            : """{"add_bos_token": false, "bos_token": null, "eos_token": "<|endoftext|>"}""");
        _tokenizer = TextTokenizer.Load(Path.Combine(hf, "tokenizer.json"));
        TinyLlama.Write(hf, new TinyLlamaOptions
        {
            Layers = 1, HiddenSize = 16, Heads = 2, KvHeads = 1, IntermediateSize = 32, TiedEmbeddings = true,
            VocabSize = _tokenizer.VocabularySize, BosTokenId = Math.Max(_tokenizer.BosId, 0), EosTokenId = _tokenizer.EosId, Seed = 11,
        });
        _modelFolder = Path.Combine(_root, "model");
        var result = LlamaExporter.Export(hf, _modelFolder);
        Assert.That(result.Manifest.TokenizerFile, Is.EqualTo("tokenizer.json"));
        Assert.That(result.Manifest.TokenizerFingerprint, Is.EqualTo(_tokenizer.Fingerprint));

        // The corpus: each prompt followed by the model's own greedy continuation, as text, plus unrelated text.
        using var model = RestModel.Load(_modelFolder);
        using var generator = model.CreateGenerator();
        var corpus = Path.Combine(_root, "corpus");
        Directory.CreateDirectory(corpus);
        for (var i = 0; i < Prompts.Length; i++)
        {
            var greedy = generator.Generate(Prompts[i], new GenerationOptions { MaxNewTokens = 40, StopTokenIds = [] });
            File.WriteAllText(Path.Combine(corpus, $"{i}.txt"), Prompts[i] + greedy.Text);
        }
        File.WriteAllText(Path.Combine(corpus, "other.txt"), "Unrelated prose: the datastore holds more than the answers. <|im_end|>\n");
        _store = Path.Combine(_root, "store.restds");
        CorpusBuilder.Build(_store, CorpusBuilder.ResolveInputs([corpus], "*.txt"), new CorpusOptions { Format = CorpusFormat.Text },
            new DatastoreBuildOptions { VocabularySize = _tokenizer.VocabularySize, Separator = _tokenizer.EosId, TokenizerFingerprint = _tokenizer.Fingerprint },
            _tokenizer);
    }

    [OneTimeTearDown]
    public void Delete()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Test]
    public void TheModelLoadsTheTokenizerJsonItWasExportedWith()
    {
        using var model = RestModel.Load(_modelFolder);
        Assert.That(model.Tokenizer!.Format, Is.EqualTo(TokenizerFormat.HuggingFaceJson));
        Assert.That(model.Tokenizer.Fingerprint, Is.EqualTo(_tokenizer.Fingerprint));
        Assert.That(model.AddsBosToText, Is.EqualTo(name == "mistral"));
        using var store = model.OpenDatastore(_store);
        Assert.That(store.Reader.TokenWidth, Is.EqualTo(name == "qwen3" ? 4 : 2));
    }

    [TestCase("rest")]
    [TestCase("hybrid")]
    public void DraftingReproducesGreedy(string strategy)
    {
        using var model = RestModel.Load(_modelFolder);
        using var store = model.OpenDatastore(_store);
        using var generator = model.CreateGenerator();
        var greedy = new GenerationOptions { MaxNewTokens = 40, StopTokenIds = [] };
        var drafting = greedy with
        {
            Drafting = strategy == "rest" ? DraftingStrategy.Rest(store) : DraftingStrategy.Hybrid(store),
            Draft = new DraftOptions { Budget = 16 },
        };
        var accepted = 0.0;
        foreach (var prompt in Prompts)
        {
            var expected = generator.Generate(prompt, greedy);
            var actual = generator.Generate(prompt, drafting);
            Assert.That(actual.Tokens, Is.EqualTo(expected.Tokens), $"{strategy} differs from greedy on: {prompt}");
            Assert.That(actual.Text, Is.EqualTo(expected.Text));
            accepted += actual.Statistics.MeanAcceptedTokensPerStep;
        }
        // The store holds the continuations as text; re-encoding them gives drafts the model accepts.
        Assert.That(accepted / Prompts.Length, Is.GreaterThan(1.5), "drafts from the text datastore were accepted");
    }
}
