using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Tests.Tokenization;

/// <summary>The project's encoder against ids produced by SentencePiece itself (spm_encode).</summary>
public class SentencePieceGoldenTests
{
    private static readonly TextTokenizer s_tokenizer = TextTokenizer.Load(TokenizerTestFiles.DemoTokenizer);

    [Test]
    public void GoldenFileCoversTheCasesThatMatter()
    {
        var golden = TokenizerTestFiles.ReadGolden();
        Assert.That(golden, Has.Count.GreaterThan(300));
        Assert.That(golden.Select(g => g.Text), Has.Some.Contains("   #"));
        Assert.That(golden.Select(g => g.Text), Has.Some.Contains("\t"));
        Assert.That(golden.Select(g => g.Text), Has.Some.Contains("\U0001F600"));
    }

    [Test]
    public void EveryGoldenStringGetsSentencePiecesIds()
    {
        var mismatches = new List<string>();
        foreach (var (text, expected) in TokenizerTestFiles.ReadGolden())
        {
            var actual = s_tokenizer.Encode(text);
            if (!actual.SequenceEqual(expected))
                mismatches.Add($"'{text}': spm [{string.Join(' ', expected)}] ours [{string.Join(' ', actual)}]");
        }
        Assert.That(mismatches, Is.Empty);
    }

    [Test]
    public void EveryGoldenStringRoundTrips()
    {
        foreach (var (text, ids) in TokenizerTestFiles.ReadGolden())
        {
            // A literal U+2581 in the input is SentencePiece's own space marker: it decodes to ' ' (spm_decode does the same).
            Assert.That(s_tokenizer.Decode(ids), Is.EqualTo(text.Replace('\u2581', ' ')), $"ids [{string.Join(' ', ids)}]");
        }
    }

    [Test]
    public void RunsOfSpacesBeforeAHashMergeLeftmostFirst()
    {
        // SentencePiece merges equal-score pairs leftmost first: "   #" is [▁▁][▁#], not [▁][▁▁#] or [▁▁▁][#].
        var golden = TokenizerTestFiles.ReadGolden().DistinctBy(g => g.Text).ToDictionary(g => g.Text, g => g.Ids);
        for (var spaces = 1; spaces <= 8; spaces++)
        {
            var text = new string(' ', spaces) + "#";
            Assert.That(s_tokenizer.Encode(text), Is.EqualTo(golden[text]), $"{spaces} spaces");
        }
        var three = s_tokenizer.Encode("   #");
        Assert.That(three.Select(id => s_tokenizer.Decode([id])), Is.EqualTo(new[] { "  ", " #" }));
    }

    [Test]
    public void LinesJoinWithTheNewlineByteBecauseNoPieceHoldsANewline()
    {
        // spm_encode works line by line, so multi-line ids are checked as: line ids + <0x0A> + line ids.
        var golden = TokenizerTestFiles.ReadGolden().Take(80).ToList();
        var newline = s_tokenizer.Encode("\n");
        Assert.That(newline, Has.Length.EqualTo(1));
        Assert.That(s_tokenizer.Decode(newline), Is.EqualTo("\n"));
        var expected = new List<int>();
        for (var i = 0; i < golden.Count; i++)
        {
            if (i > 0) expected.AddRange(newline);
            expected.AddRange(golden[i].Ids);
        }
        var text = string.Join('\n', golden.Select(g => g.Text));
        Assert.That(s_tokenizer.Encode(text), Is.EqualTo(expected));
        Assert.That(s_tokenizer.Decode([.. expected]), Is.EqualTo(text.Replace('\u2581', ' ')));
    }

    [Test]
    public void EncodingInParallelGivesTheSameIdsAsSequentially()
    {
        var texts = TokenizerTestFiles.ReadGolden().Select(g => g.Text).ToArray();
        var sequential = texts.Select(s_tokenizer.Encode).ToArray();
        var parallel = new int[texts.Length * 8][];
        Parallel.For(0, parallel.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var ids = new List<int>();
            s_tokenizer.Encode(texts[i % texts.Length], ids);
            parallel[i] = [.. ids];
        });
        Assert.That(parallel, Is.EqualTo(Enumerable.Range(0, parallel.Length).Select(i => sequential[i % texts.Length])));
    }

    [Test]
    public void EncodeAppendsToTheCallersList()
    {
        var ids = new List<int> { 42 };
        s_tokenizer.Encode("x = 1".AsSpan(), ids);
        Assert.That(ids[0], Is.EqualTo(42));
        Assert.That(ids.Skip(1), Is.EqualTo(s_tokenizer.Encode("x = 1")));
        Assert.That(s_tokenizer.Encode(string.Empty), Is.Empty);
    }

    [Test]
    public void SpecialIdsAreTheOnesTheRecipeAsksFor()
    {
        Assert.That(s_tokenizer.VocabularySize, Is.EqualTo(4096));
        Assert.That((s_tokenizer.BosId, s_tokenizer.EosId, s_tokenizer.PadId), Is.EqualTo((1, 2, 3)));
        Assert.That(s_tokenizer.Decode([s_tokenizer.BosId, s_tokenizer.EosId, s_tokenizer.PadId]), Is.Empty);
        Assert.That(s_tokenizer.Fingerprint, Is.EqualTo(TokenizerFingerprint.OfPath(TokenizerTestFiles.DemoTokenizer)));
    }

    [Test]
    public void DecodeRejectsIdsOutsideTheVocabulary()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => s_tokenizer.Decode([5, 4096]));
        Assert.That(e!.Message, Does.Contain("4096"));
        Assert.Throws<ArgumentOutOfRangeException>(() => s_tokenizer.Decode([-1]));
    }
}
