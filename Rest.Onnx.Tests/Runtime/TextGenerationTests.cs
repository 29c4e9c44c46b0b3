using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Tests.Runtime;

/// <summary>Text in and out through the model folder's tokenizer (the demo model's tokenizer on a tiny random model).</summary>
public class TextGenerationTests
{
    private TextTokenizer _tokenizer = null!;
    private RestModel _model = null!;
    private Generator _generator = null!;
    private static readonly GenerationOptions Options = new() { MaxNewTokens = 48, StopTokenIds = [] };

    [OneTimeSetUp]
    public void Open()
    {
        var tokenizerPath = TinyModels.DemoTokenizerPath();
        _tokenizer = TextTokenizer.Load(tokenizerPath);
        var folder = TinyModels.Folder(TinyModels.Default with { VocabSize = _tokenizer.VocabularySize, TokenizerPath = tokenizerPath });
        _model = RestModel.Load(folder, new ModelOptions { MaxSequenceLength = 128, IntraOpThreads = 1 });
        _generator = _model.CreateGenerator();
    }

    [OneTimeTearDown]
    public void Close()
    {
        _generator.Dispose();
        _model.Dispose();
    }

    [Test]
    public void AddBosFollowsTokenizerConfigUnlessTheOptionSaysOtherwise()
    {
        const string prompt = "def add(a, b):";
        var encoded = _tokenizer.Encode(prompt).Length;
        var noBos = TinyModels.CopyWithFile(_model.Folder, "tokenizer_config.json", """{ "add_bos_token": false }""");
        using var model = RestModel.Load(noBos, new ModelOptions { MaxSequenceLength = 128, IntraOpThreads = 1 });
        using var generator = model.CreateGenerator();
        Assert.That(_model.AddsBosToText, Is.True, "no tokenizer_config.json: BOS by default");
        Assert.That(model.AddsBosToText, Is.False);
        var options = Options with { MaxNewTokens = 2 };
        Assert.That(generator.Generate(prompt, options).Statistics.PromptTokens, Is.EqualTo(encoded));
        Assert.That(generator.Generate(prompt, options with { AddBos = true }).Statistics.PromptTokens, Is.EqualTo(encoded + 1));
        Assert.That(_generator.Generate(prompt, options with { AddBos = false }).Statistics.PromptTokens, Is.EqualTo(encoded));

        var broken = TinyModels.CopyWithFile(_model.Folder, "tokenizer_config.json", "{ not json");
        var e = Assert.Throws<InvalidDataException>(() => RestModel.Load(broken));
        Assert.That(e!.Message, Does.Contain("tokenizer_config.json"));
    }

    [Test]
    public void ModelFolderTokenizerIsLoadedAndChecked()
    {
        Assert.That(_model.Tokenizer, Is.Not.Null);
        Assert.That(_model.Manifest.TokenizerFingerprint, Is.EqualTo(_tokenizer.Fingerprint));
    }

    [TestCase("def add(a, b):")]
    [TestCase("The quick brown fox")]
    public async Task TextEqualsTheDecodedTokensAndTheStreamedChunks(string prompt)
    {
        var result = _generator.Generate(prompt, Options);
        Assert.That(result.Text, Is.EqualTo(_tokenizer.Decode([.. result.Tokens])));
        Assert.That(result.Text, Is.Not.Empty);

        var streamed = new System.Text.StringBuilder();
        await foreach (var chunk in _generator.GenerateStreamingAsync(prompt, Options)) streamed.Append(chunk.Text);
        Assert.That(streamed.ToString(), Is.EqualTo(result.Text));

        var expectedIds = new List<int> { _model.Manifest.BosTokenId!.Value };
        _tokenizer.Encode(prompt.AsSpan(), expectedIds);
        Assert.That(result.Statistics.PromptTokens, Is.EqualTo(expectedIds.Count), "BOS + encoded prompt");
    }

    [Test]
    public async Task StopStringCutsTheTextBeforeIt()
    {
        const string prompt = "int main() {";
        var full = _generator.Generate(prompt, Options).Text!;
        Assume.That(full.Length, Is.GreaterThan(20));
        var stop = full.Substring(12, 4);
        var expected = full[..full.IndexOf(stop, StringComparison.Ordinal)];

        var result = _generator.Generate(prompt, Options with { StopStrings = [stop] });
        Assert.That(result.StopReason, Is.EqualTo(StopReason.StopString));
        Assert.That(result.Text, Is.EqualTo(expected));

        var streamed = new System.Text.StringBuilder();
        await foreach (var chunk in _generator.GenerateStreamingAsync(prompt, Options with { StopStrings = [stop] })) streamed.Append(chunk.Text);
        Assert.That(streamed.ToString(), Is.EqualTo(expected), "streamed text never shows the stop string");
    }
}
