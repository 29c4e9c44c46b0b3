using System.Text.Json;
using Rest.Onnx.DemoModel.Corpus;
using Rest.Onnx.Tests.Tokenization;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Tests.DemoModel;

public class DevPromptTests
{
    private const string Source = """"
        import os

        def documented(a, b):
            '''Adds.

            Returns a + b.
            '''
            return a + b

        def undocumented(x):
            return x

        class C:
            async def method(self,
                             other):
                """One line."""
                return other

        def docstring_only():
            """Nothing follows."""

        """";

    [Test]
    public void CutsSignatureAndDocstringOfFunctionsWithABody()
    {
        var prompts = DevPromptExtractor.Extract(Source.Replace("\r\n", "\n"), "m.py").ToList();
        Assert.That(prompts.Select(p => p.Line), Is.EqualTo(new[] { 3, 14 }));
        Assert.That(prompts[0].Prompt, Is.EqualTo("def documented(a, b):\n    '''Adds.\n\n    Returns a + b.\n    '''\n"));
        Assert.That(prompts[1].Prompt, Is.EqualTo("    async def method(self,\n                     other):\n        \"\"\"One line.\"\"\"\n"));
    }

    [Test]
    public void SelectionSpreadsEvenlyAndKeepsOrder()
    {
        var candidates = Enumerable.Range(0, 10).Select(i => new DevPrompt($"p{i}", "f.py", i + 1)).ToList();
        Assert.That(DevPromptExtractor.SelectEvenly(candidates, 5).Select(p => p.Line), Is.EqualTo(new[] { 1, 3, 5, 7, 9 }));
        Assert.That(DevPromptExtractor.SelectEvenly(candidates, 20), Has.Count.EqualTo(10));
    }

    [Test]
    public void CommittedDevPromptsComeVerbatimFromHeldOutFiles()
    {
        var path = Path.Combine(TokenizerTestFiles.RepositoryRoot, "export", "demo-model", "dev-prompts.jsonl");
        var lines = File.ReadAllLines(path);
        Assert.That(lines, Has.Length.InRange(60, 100));
        var tokenizer = TextTokenizer.Load(TokenizerTestFiles.DemoTokenizer);
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            var prompt = doc.RootElement.GetProperty("prompt").GetString()!;
            var file = doc.RootElement.GetProperty("source").GetProperty("file").GetString()!;
            var lineNumber = doc.RootElement.GetProperty("source").GetProperty("line").GetInt32();
            Assert.That(DemoCorpus.IsHeldOut(file), Is.True, file);
            Assert.That(tokenizer.Encode(prompt), Has.Length.LessThanOrEqualTo(128), $"{file}:{lineNumber}");
            var full = Path.Combine(DemoCorpus.DefaultRoot, file);
            if (!File.Exists(full)) continue;
            var text = File.ReadAllText(full).Split('\n');
            Assert.That(string.Join('\n', text.Skip(lineNumber - 1)), Does.StartWith(prompt), $"{file}:{lineNumber}");
        }
    }
}
