using System.Text;
using Rest.Onnx.Tests.Export;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Tests.Tokenization;

/// <summary>Bad or unsupported tokenizer.json files and the folder rule (tokenizer.json before tokenizer.model).</summary>
public class TokenizerJsonErrorTests
{
    private TempFolder _dir = null!;

    [SetUp]
    public void SetUp() => _dir = new TempFolder();

    [TearDown]
    public void TearDown() => _dir.Dispose();

    private string Write(string json)
    {
        var path = Path.Combine(_dir.Path, "tokenizer.json");
        File.WriteAllText(path, json, Encoding.UTF8);
        return path;
    }

    [TestCase("WordPiece")]
    [TestCase("Unigram")]
    [TestCase("WordLevel")]
    public void NamesAnUnsupportedModelType(string type)
    {
        var path = Write("""{"version":"1.0","added_tokens":[],"model":{"type":"TYPE","vocab":{"a":0}}}""".Replace("TYPE", type, StringComparison.Ordinal));
        var e = Assert.Throws<InvalidDataException>(() => TextTokenizer.Load(path));
        Assert.That(e!.Message, Does.Contain($"model type '{type}' is not supported").And.Contain(path));
    }

    [Test]
    public void RejectsJsonThatIsNoTokenizer()
    {
        var e = Assert.Throws<InvalidDataException>(() => TextTokenizer.Load(Write("""{"hello": 1}""")));
        Assert.That(e!.Message, Does.Contain("no \"model\" object"));
        e = Assert.Throws<InvalidDataException>(() => TextTokenizer.Load(Write("""{"model": {"type": "BPE", "vocab": {"a": 0}, """)));
        Assert.That(e!.Message, Does.Contain("not valid JSON"));
        // A .json file is read as JSON whatever its first byte (not as a SentencePiece protobuf).
        e = Assert.Throws<InvalidDataException>(() => TextTokenizer.Load(Write("""[1, 2]""")));
        Assert.That(e!.Message, Does.Contain("not a Hugging Face tokenizer.json"));
    }

    [Test]
    public void ReportsWhatHfTokenizersRejects()
    {
        // Valid JSON and BPE, but a merge names a token the vocabulary lacks: HF's own loader refuses it.
        var path = Write("""{"version":"1.0","added_tokens":[],"normalizer":null,"pre_tokenizer":null,"post_processor":null,"decoder":null,"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a c"]}}""");
        var e = Assert.Throws<InvalidDataException>(() => TextTokenizer.Load(path));
        Assert.That(e!.Message, Does.Contain("Hugging Face tokenizers cannot load it"));
    }

    [Test]
    public void ASmallHandWrittenBpeWorks()
    {
        var path = Write("""
            {"version":"1.0","truncation":null,"padding":null,
             "added_tokens":[{"id":3,"content":"<eos>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
             "normalizer":null,"pre_tokenizer":{"type":"Whitespace"},"post_processor":null,"decoder":null,
             "model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":null,"end_of_word_suffix":null,
                      "fuse_unk":false,"byte_fallback":false,"vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}}
            """);
        var t = TextTokenizer.Load(path);
        Assert.That(t.Encode("ab a<eos>b"), Is.EqualTo(new[] { 2, 0, 3, 1 }));
        Assert.That(t.EosId, Is.EqualTo(3));
        Assert.That(t.BosId, Is.EqualTo(-1));
        Assert.That(t.VocabularySize, Is.EqualTo(4));
        Assert.That(t.IsSpecialToken(3), Is.True);
        Assert.That(t.Decode([2, 3], skipSpecialTokens: false), Does.Contain("<eos>"));
        Assert.That(t.Decode([2, 3]), Does.Not.Contain("<eos>"));
    }

    [Test]
    public void AFolderWithBothUsesTokenizerJsonAndSaysSo()
    {
        File.Copy(HfTokenizerFiles.Committed("mistral"), Path.Combine(_dir.Path, "tokenizer.json"));
        File.Copy(TokenizerTestFiles.DemoTokenizer, Path.Combine(_dir.Path, "tokenizer.model"));
        var t = TextTokenizer.Load(_dir.Path);
        Assert.That(t.Format, Is.EqualTo(TokenizerFormat.HuggingFaceJson));
        Assert.That(Path.GetFileName(t.SourcePath), Is.EqualTo("tokenizer.json"));
        Assert.That(t.IgnoredFile, Is.EqualTo(Path.Combine(_dir.Path, "tokenizer.model")));
        Assert.That(t.Description, Does.Contain("tokenizer.model in the same folder not used"));
        Assert.That(t.Fingerprint, Is.EqualTo(TokenizerFingerprint.OfPath(_dir.Path)));
        Assert.That(TokenizerFingerprint.ResolveFile(_dir.Path), Is.EqualTo(t.SourcePath));

        var model = TextTokenizer.Load(Path.Combine(_dir.Path, "tokenizer.model"));
        Assert.That(model.Format, Is.EqualTo(TokenizerFormat.SentencePiece));
        Assert.That(model.IgnoredFile, Is.Null);
    }

    [Test]
    public void TheExporterRecordsTheTokenizerJsonWhenBothAreThere()
    {
        var hf = Path.Combine(_dir.Path, "hf");
        Rest.Onnx.Export.Tiny.TinyLlama.Write(hf, new Rest.Onnx.Export.Tiny.TinyLlamaOptions { Layers = 1, HiddenSize = 16, Heads = 2, KvHeads = 1, IntermediateSize = 32 });
        File.Copy(HfTokenizerFiles.Committed("mistral"), Path.Combine(hf, "tokenizer.json"));
        File.Copy(TokenizerTestFiles.DemoTokenizer, Path.Combine(hf, "tokenizer.model"));
        var result = Rest.Onnx.Export.LlamaExporter.Export(hf, Path.Combine(_dir.Path, "onnx"));
        Assert.That(result.Manifest.TokenizerFile, Is.EqualTo("tokenizer.json"));
        Assert.That(result.Manifest.TokenizerFingerprint, Is.EqualTo(TokenizerFingerprint.OfPath(Path.Combine(hf, "tokenizer.json"))));
        Assert.That(File.Exists(Path.Combine(_dir.Path, "onnx", "tokenizer.model")), Is.True, "both files are still copied");
    }

    [Test]
    public void AMissingNativeLibraryNamesThePackageToAdd()
    {
        // Platforms other than linux-x64 get this from Load (the DllNotFoundException is its inner exception).
        var e = Rest.Onnx.Tokenization.HuggingFace.NativeHfTokenizer.MissingNative("m/tokenizer.json", new DllNotFoundException("hf_tokenizers"));
        Assert.That(e.Message, Does.Contain($"Tokenizers.DotNet.runtime.{System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier}")
            .And.Contain("m/tokenizer.json").And.Contain("tokenizer.model"));
        Assert.That(e.InnerException, Is.InstanceOf<DllNotFoundException>());
    }

    [Test]
    public void SentencePieceKeepsControlPiecesWhenAsked()
    {
        var t = TextTokenizer.Load(TokenizerTestFiles.DemoTokenizer);
        int[] ids = [t.BosId, .. t.Encode("hello"), t.EosId];
        Assert.That(t.Decode(ids), Is.EqualTo("hello"));
        Assert.That(t.Decode(ids, skipSpecialTokens: false), Is.EqualTo("<s>hello</s>"));
        Assert.That(t.IsSpecialToken(t.EosId), Is.True);
        Assert.That(t.TryGetSpecialTokenId("</s>", out var eos) && eos == t.EosId, Is.True);
    }
}
