using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Tests.Tokenization;

/// <summary>SentencePiece BPE rules, one per test, on tiny hand-written models.</summary>
public class BpeRuleTests
{
    private string _dir = string.Empty;

    [SetUp]
    public void CreateFolder() => _dir = Directory.CreateTempSubdirectory("rest-bpe-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void EqualScoreMergesGoLeftmostFirst()
    {
        var builder = new SentencePieceModelBuilder();
        var a = builder.Add("a", -5);
        var aa = builder.Add("aa", -1);
        var tokenizer = TextTokenizer.Load(builder.Write(_dir));
        Assert.That(tokenizer.Encode("aaa"), Is.EqualTo(new[] { aa, a }));
        Assert.That(tokenizer.Encode("aaaaa"), Is.EqualTo(new[] { aa, aa, a }));
    }

    [Test]
    public void HigherScoreMergesFirstWhereverItIs()
    {
        var builder = new SentencePieceModelBuilder();
        var a = builder.Add("a");
        builder.Add("b");
        builder.Add("c");
        builder.Add("ab", -2);
        var bc = builder.Add("bc", -1);
        var tokenizer = TextTokenizer.Load(builder.Write(_dir));
        Assert.That(tokenizer.Encode("abc"), Is.EqualTo(new[] { a, bc }));
    }

    [Test]
    public void UnknownCharactersFallBackToUtf8Bytes()
    {
        var builder = new SentencePieceModelBuilder { ByteFallback = true }.WithBytes();
        var x = builder.Add("x");
        var tokenizer = TextTokenizer.Load(builder.Write(_dir));
        // <0xNN> ids are 3 + NN here (three specials come first).
        Assert.That(tokenizer.Encode("x\u00e9\U0001F600"), Is.EqualTo(new[] { x, 3 + 0xC3, 3 + 0xA9, 3 + 0xF0, 3 + 0x9F, 3 + 0x98, 3 + 0x80 }));
        Assert.That(tokenizer.Decode(tokenizer.Encode("x\u00e9\U0001F600")), Is.EqualTo("x\u00e9\U0001F600"));
    }

    [Test]
    public void WithoutByteFallbackUnknownCharactersBecomeUnk()
    {
        var builder = new SentencePieceModelBuilder();
        var x = builder.Add("x");
        var tokenizer = TextTokenizer.Load(builder.Write(_dir));
        Assert.That(tokenizer.Encode("x\u00e9x"), Is.EqualTo(new[] { x, 0, x }));
    }

    [Test]
    public void DummyPrefixAndExtraWhitespaceFlagsAreHonoured()
    {
        var builder = new SentencePieceModelBuilder { AddDummyPrefix = true, RemoveExtraWhitespaces = true };
        foreach (var c in "\u2581helowrd") builder.Add(c.ToString(), -10);
        var hello = builder.Add("\u2581hello", -1);
        var world = builder.Add("\u2581world", -1);
        builder.Add("\u2581h", -2); builder.Add("\u2581he", -2); builder.Add("\u2581hel", -2); builder.Add("\u2581hell", -2);
        builder.Add("\u2581w", -2); builder.Add("\u2581wo", -2); builder.Add("\u2581wor", -2); builder.Add("\u2581worl", -2);
        var tokenizer = TextTokenizer.Load(builder.Write(_dir));
        Assert.That(tokenizer.Encode("  hello   world "), Is.EqualTo(new[] { hello, world }));
        Assert.That(tokenizer.Decode([hello, world]), Is.EqualTo("hello world"));
    }

    [Test]
    public void UnusedPiecesAreSplitBackIntoTheirParts()
    {
        var builder = new SentencePieceModelBuilder();
        var a = builder.Add("a");
        var b = builder.Add("b");
        builder.Add("c");
        builder.Add("ab", -1, SentencePieceModelBuilder.Unused);
        var abc = builder.Add("abc", -2);
        var tokenizer = TextTokenizer.Load(builder.Write(_dir));
        Assert.That(tokenizer.Encode("ab"), Is.EqualTo(new[] { a, b }));
        Assert.That(tokenizer.Encode("abc"), Is.EqualTo(new[] { abc }));
    }

    [Test]
    public void UnigramModelsAreRejectedByName()
    {
        var builder = new SentencePieceModelBuilder { ModelType = 1 };
        builder.Add("a");
        var path = builder.Write(_dir);
        var e = Assert.Throws<InvalidDataException>(() => TextTokenizer.Load(path));
        Assert.That(e!.Message, Does.Contain("BPE").And.Contain(path));
    }

    [Test]
    public void CharacterMapNormalizationIsRejectedByName()
    {
        var builder = new SentencePieceModelBuilder { CharsMap = [1, 2, 3, 4] };
        builder.Add("a");
        var e = Assert.Throws<InvalidDataException>(() => TextTokenizer.Load(builder.Write(_dir)));
        Assert.That(e!.Message, Does.Contain("identity"));
    }

    [Test]
    public void AFileThatIsNotAModelNamesItself()
    {
        var path = Path.Combine(_dir, "tokenizer.model");
        File.WriteAllText(path, "{\"not\": \"a sentencepiece model\"}");
        var e = Assert.Throws<InvalidDataException>(() => TextTokenizer.Load(path));
        Assert.That(e!.Message, Does.Contain(path));
    }
}
