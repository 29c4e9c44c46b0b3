using System.Text;
using Rest.Onnx.DemoModel.Corpus;
using Rest.Onnx.DemoModel.Corpus.Large;

namespace Rest.Onnx.Tests.DemoModel.Large;

public class CorpusExclusionTests
{
    private const string Stdlib = "import re\n\ndef split(text):\n    return text.split()\n";
    private const string Prompt = "def load(path):\n    \"\"\"Read the file at path.\"\"\"\n";

    private static CorpusExclusion Rule() => new([Stdlib], [Prompt]);

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    [Test]
    public void OrdinaryCodeIsKept()
        => Assert.That(Rule().Classify(Utf8("def other():\n    return 1\n")), Is.EqualTo(ExclusionReason.None));

    [Test]
    public void AStandardLibraryCopyIsExcludedWhateverItsLineEndingsOrBom()
    {
        var rule = Rule();
        Assert.That(rule.Classify(Utf8(Stdlib)), Is.EqualTo(ExclusionReason.StandardLibraryCopy));
        Assert.That(rule.Classify(Utf8("\uFEFF" + Stdlib.Replace("\n", "\r\n", StringComparison.Ordinal))), Is.EqualTo(ExclusionReason.StandardLibraryCopy));
        // One changed character is not a copy (the prompt test is what catches edited copies).
        Assert.That(rule.Classify(Utf8(Stdlib.Replace("split()", "split(',')", StringComparison.Ordinal))), Is.EqualTo(ExclusionReason.None));
    }

    [Test]
    public void AFileContainingAPromptVerbatimIsExcludedEvenWithCrlfAndNoFinalNewline()
    {
        var rule = Rule();
        var backport = "# backport\nimport os\n\n" + Prompt.Replace("\n", "\r\n", StringComparison.Ordinal).TrimEnd('\n', '\r');
        Assert.That(rule.Classify(Utf8(backport)), Is.EqualTo(ExclusionReason.ContainsPrompt));
        // Only part of the prompt (the signature) is not enough.
        Assert.That(rule.Classify(Utf8("def load(path):\n    pass\n")), Is.EqualTo(ExclusionReason.None));
    }

    [Test]
    public void TheFirstOfEqualTextsIsKeptAndLaterCopiesAreDuplicates()
    {
        var rule = Rule();
        var text = Utf8("x = 1\n");
        Assert.That(rule.Classify(text), Is.EqualTo(ExclusionReason.None));
        Assert.That(rule.Classify(Utf8("x = 1\r\n")), Is.EqualTo(ExclusionReason.Duplicate));
        Assert.That(rule.Classify(Utf8("x = 2\n")), Is.EqualTo(ExclusionReason.None));
    }

    [Test]
    public void LargeBinaryInvalidAndEmptyFilesAreExcluded()
    {
        var rule = Rule();
        Assert.That(rule.Classify(Enumerable.Repeat((byte)'a', (int)DemoCorpus.MaxFileBytes + 1).ToArray()), Is.EqualTo(ExclusionReason.TooLarge));
        Assert.That(rule.Classify([(byte)'a', 0, (byte)'b']), Is.EqualTo(ExclusionReason.NotText));
        Assert.That(rule.Classify([0xC3, 0x28]), Is.EqualTo(ExclusionReason.NotText));
        Assert.That(rule.Classify([]), Is.EqualTo(ExclusionReason.Empty));
        Assert.That(rule.Classify([0xEF, 0xBB, 0xBF]), Is.EqualTo(ExclusionReason.Empty));
    }

    [Test]
    public void TheDemoRuleReadsTheCommittedPromptsAndTheStandardLibrary()
    {
        if (!Directory.Exists(DemoCorpus.DefaultRoot)) Assert.Ignore($"{DemoCorpus.DefaultRoot} is not installed.");
        var rule = CorpusExclusion.ForDemo(DemoCorpus.DefaultRoot, [Rest.Onnx.DemoModel.DemoModelPaths.DevPrompts, Rest.Onnx.DemoModel.DemoModelPaths.ContextDevPrompts]);
        Assert.That(rule.PromptCount, Is.GreaterThan(200));
        // A prompt's origin file with an edited first line (as a backport would be) is caught by the prompt test.
        using var first = System.Text.Json.JsonDocument.Parse(File.ReadLines(Rest.Onnx.DemoModel.DemoModelPaths.DevPrompts).First());
        var origin = Path.Combine(DemoCorpus.DefaultRoot, first.RootElement.GetProperty("source").GetProperty("file").GetString()!);
        Assert.That(rule.Classify(File.ReadAllBytes(origin)), Is.EqualTo(ExclusionReason.StandardLibraryCopy));
        var edited = Utf8("# vendored copy\n" + File.ReadAllText(origin).Replace("\n", "\r\n", StringComparison.Ordinal));
        Assert.That(rule.Classify(edited), Is.EqualTo(ExclusionReason.ContainsPrompt));
    }
}
