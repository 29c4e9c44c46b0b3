using Microsoft.ML.Tokenizers;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Tests.Tokenization;

/// <summary>
/// Cross-checks against Microsoft.ML.Tokenizers, an independent reader of the same file, and records
/// why the project does not encode with it.
/// </summary>
public class MicrosoftTokenizerComparisonTests
{
    private static SentencePieceTokenizer LoadPackageTokenizer()
    {
        using var stream = File.OpenRead(TokenizerTestFiles.DemoTokenizer);
        return LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
    }

    [Test]
    public void BothReadTheSameVocabulary()
    {
        var package = LoadPackageTokenizer();
        var ours = TextTokenizer.Load(TokenizerTestFiles.DemoTokenizer);
        Assert.That(package.Vocabulary, Has.Count.EqualTo(ours.VocabularySize));
        var checkedPieces = 0;
        foreach (var (piece, id) in package.Vocabulary)
        {
            if (piece.StartsWith('<') && piece.EndsWith('>')) continue; // specials and <0xNN> bytes decode differently by design
            Assert.That(ours.Decode([id]), Is.EqualTo(piece.Replace('\u2581', ' ')), $"id {id}");
            checkedPieces++;
        }
        Assert.That(checkedPieces, Is.GreaterThan(3500));
    }

    [Test]
    public void PackageVersionStillBreaksTiesTheOtherWay()
    {
        // If this starts failing, Microsoft.ML.Tokenizers matches SentencePiece and BpeEncoder may go.
        var package = LoadPackageTokenizer();
        var ours = TextTokenizer.Load(TokenizerTestFiles.DemoTokenizer);
        var golden = TokenizerTestFiles.ReadGolden().Single(g => g.Text == "   #").Ids;
        Assert.That(ours.Encode("   #"), Is.EqualTo(golden));
        Assert.That(package.EncodeToIds("   #", addBeginningOfSentence: false, addEndOfSentence: false), Is.Not.EqualTo(golden));
    }
}
