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
    public void WithoutRequiringADocstringAnUndocumentedDefGivesItsSignatureAlone()
    {
        var prompts = DevPromptExtractor.Extract(Source.Replace("\r\n", "\n"), "m.py", requireDocstring: false).ToList();
        Assert.That(prompts.Select(p => (p.Line, p.HasDocstring)), Is.EqualTo(new[] { (3, true), (10, false), (14, true) }));
        Assert.That(prompts[1].Prompt, Is.EqualTo("def undocumented(x):\n"));
        // The documented ones are exactly the default extraction's.
        Assert.That(prompts.Where(p => p.HasDocstring), Is.EqualTo(DevPromptExtractor.Extract(Source.Replace("\r\n", "\n"), "m.py")));
    }

    private const string ContextSource = """"
        import os

        def first(a):
            """No block before it."""
            return a

        LIMIT = 3

        @cache
        def second(b):
            """After first."""
            return b

        class K:
            def one(self):
                return 1

            def two(self):
                """Method after one."""
                return 2

        def third(c):
            """After class K."""
            return c

        """";

    [Test]
    public void ContextPromptsTakeWholePrecedingBlocksOfTheSameScope()
    {
        var text = ContextSource.Replace("\r\n", "\n");
        var lines = text.Split('\n');
        var prompts = DevPromptExtractor.ExtractWithContext(text, "m.py", t => t.Length, maxTokens: 10_000).ToList();

        // first has no block before it; second takes first (decorator kept with second); two takes one, not the class
        // header; third takes everything from first down to class K.
        Assert.That(prompts.Select(p => (p.Line, p.DefLine, p.ContextBlocks)), Is.EqualTo(new[] { (3, 10, 1), (15, 18, 1), (3, 22, 3) }));
        Assert.That(prompts[0].Prompt, Is.EqualTo(string.Join('\n', lines[2..11]) + "\n"));
        Assert.That(prompts[0].Prompt, Does.Contain("LIMIT = 3\n\n@cache\ndef second(b):\n"));
        Assert.That(prompts[1].Prompt, Is.EqualTo("    def one(self):\n        return 1\n\n    def two(self):\n        \"\"\"Method after one.\"\"\"\n"));
        Assert.That(prompts[2].Prompt, Does.StartWith("def first(a):").And.EndWith("def third(c):\n    \"\"\"After class K.\"\"\"\n"));

        // Each ends with the short prompt of its def.
        var shortPrompts = DevPromptExtractor.Extract(text, "m.py").ToDictionary(p => p.Line, p => p.Prompt);
        foreach (var p in prompts) Assert.That(p.Prompt, Does.EndWith(shortPrompts[p.DefLine]));
    }

    [Test]
    public void ContextPromptsStopAtTheTokenLimit()
    {
        var text = ContextSource.Replace("\r\n", "\n");
        var third = DevPromptExtractor.ExtractWithContext(text, "m.py", t => t.Length, 10_000).Single(p => p.DefLine == 22);
        // A limit just under the whole context keeps only the nearest block (class K) ...
        var limit = third.Prompt.Length - 1;
        var nearest = DevPromptExtractor.ExtractWithContext(text, "m.py", t => t.Length, limit).Single(p => p.DefLine == 22);
        Assert.That(nearest.ContextBlocks, Is.LessThan(3));
        Assert.That(nearest.Prompt.Length, Is.LessThanOrEqualTo(limit));
        Assert.That(nearest.Prompt, Does.EndWith(third.Prompt[^60..]));
        // ... and a limit below one block gives no context prompt at all.
        Assert.That(DevPromptExtractor.ExtractWithContext(text, "m.py", t => t.Length, 40), Is.Empty);
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

    [Test]
    public void CommittedContextPromptsComeVerbatimFromHeldOutFilesAndFitTheDemoModel()
    {
        var path = Path.Combine(TokenizerTestFiles.RepositoryRoot, "export", "demo-model", "dev-prompts-context.jsonl");
        var lines = File.ReadAllLines(path);
        // As many as HumanEval has problems, and each fits the committed demo model with 256 new tokens.
        Assert.That(lines, Has.Length.EqualTo(164));
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(TokenizerTestFiles.RepositoryRoot, "export", "demo-model", "checkpoint", "config.json")));
        var positions = config.RootElement.GetProperty("max_position_embeddings").GetInt32();
        Assert.That(positions, Is.GreaterThanOrEqualTo(1024), "demo model v2 has at least 1,024 positions");
        var documented = 0;
        var tokenizer = TextTokenizer.Load(TokenizerTestFiles.DemoTokenizer);
        var lengths = new List<int>();
        var labels = new HashSet<string>();
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            var prompt = root.GetProperty("prompt").GetString()!;
            var file = root.GetProperty("source").GetProperty("file").GetString()!;
            var defLine = root.GetProperty("source").GetProperty("line").GetInt32();
            var lineNumber = root.GetProperty("contextLine").GetInt32();
            Assert.That(root.GetProperty("kind").GetString(), Is.EqualTo("context"));
            Assert.That(root.GetProperty("contextBlocks").GetInt32(), Is.GreaterThanOrEqualTo(1));
            Assert.That(defLine, Is.GreaterThan(lineNumber));
            Assert.That(DemoCorpus.IsHeldOut(file), Is.True, file);
            Assert.That(labels.Add($"{file}:{defLine}"), Is.True, $"{file}:{defLine} twice: the main job labels runs by file:line");
            var tokens = tokenizer.Encode(prompt).Length;
            Assert.That(tokens + 256, Is.LessThanOrEqualTo(positions), $"{file}:{lineNumber}: prompt + 256 new tokens must fit the demo model's {positions} positions");
            lengths.Add(tokens);
            var full = Path.Combine(DemoCorpus.DefaultRoot, file);
            if (!File.Exists(full)) continue;
            var text = File.ReadAllText(full);
            Assert.That(string.Join('\n', text.Split('\n').Skip(lineNumber - 1)), Does.StartWith(prompt), $"{file}:{lineNumber}");
            var target = DevPromptExtractor.Extract(text, file, requireDocstring: false).Single(p => p.Line == defLine);
            Assert.That(prompt, Does.EndWith(target.Prompt), $"{file}:{defLine}");
            Assert.That(root.GetProperty("docstring").GetBoolean(), Is.EqualTo(target.HasDocstring), $"{file}:{defLine}");
            if (target.HasDocstring) documented++;
        }
        // Longer than the short set (at most 128 tokens) on the whole: HumanEval-like lengths.
        lengths.Sort();
        Assert.That(lengths[lengths.Count / 2], Is.GreaterThan(128));
        Assert.That(lengths[^1], Is.LessThanOrEqualTo(560));
        // Documented defs are all taken first; the signature-only ones only make up the count.
        if (Directory.Exists(DemoCorpus.DefaultRoot)) Assert.That(documented, Is.GreaterThanOrEqualTo(80));
    }
}
