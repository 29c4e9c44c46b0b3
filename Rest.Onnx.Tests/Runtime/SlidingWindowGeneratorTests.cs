using Rest.Onnx.Export.Llama;
using Rest.Onnx.Export.Tiny;

namespace Rest.Onnx.Tests.Runtime;

/// <summary>
/// A Mistral tiny model whose sliding window (8) is much shorter than the sequences: the engine's batches carry the
/// window (from rest-model.json) into prefill chunks and tree steps, and every drafting strategy still equals greedy,
/// which equals recomputation from scratch with a windowed mask.
/// </summary>
public class SlidingWindowGeneratorTests
{
    private const int Window = 8;

    /// <summary>The default tiny model's weights (same seed and shapes) with a window.</summary>
    private static readonly TinyLlamaOptions Options = TinyModels.Default with { Architecture = LlamaConfig.Mistral, SlidingWindow = Window };

    private static readonly GenerationOptions Greedy = new() { MaxNewTokens = 24, StopTokenIds = [] };

    private RestModel _model = null!;
    private Generator _generator = null!;
    private readonly List<string> _files = [];

    [OneTimeSetUp]
    public void Open()
    {
        _model = RestModel.Load(TinyModels.Folder(Options), new ModelOptions { MaxSequenceLength = 128, IntraOpThreads = 1 });
        _generator = _model.CreateGenerator();
        Assert.That(_model.Manifest.SlidingWindow, Is.EqualTo(Window));
    }

    [OneTimeTearDown]
    public void Close()
    {
        _generator?.Dispose();
        _model?.Dispose();
        foreach (var file in _files) File.Delete(file);
    }

    [Test]
    public void BaselineEqualsWindowedRecomputationAndDiffersFromFullAttention()
    {
        int[] prompt = [1, 17, 300, 42, 5, 99, 230, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
        var expected = NaiveDecoder.Greedy(TinyModels.Folder(Options), prompt, 12);
        var actual = _generator.Generate(prompt, Greedy with { MaxNewTokens = 12 });
        Assert.That(actual.Tokens, Is.EqualTo(expected));

        // The same weights without the window generate something else: the window is really applied.
        var full = NaiveDecoder.Greedy(TinyModels.Folder(TinyModels.Default), prompt, 12);
        Assert.That(full, Is.Not.EqualTo(expected));
    }

    [Test]
    public void PrefillOfAppendedTokensBeyondTheWindowEqualsRecomputation()
    {
        // The second append is prefilled at a past already longer than the window.
        int[] prompt = [1, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50];
        int[] appended = [60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70];
        using var run = _generator.Start(Greedy with { Drafting = DraftingStrategy.PromptLookup });
        run.AppendTokens(prompt);
        for (var i = 0; i < 3; i++) run.Step();
        run.AppendTokens(appended);
        var before = run.Sequence.ToArray();
        while (run.Sequence.Length < before.Length + 8 && !run.IsDone) run.Step();
        var generated = run.Sequence[before.Length..].ToArray();
        Assert.That(generated, Is.EqualTo(NaiveDecoder.Greedy(TinyModels.Folder(Options), before, generated.Length)));
    }

    [Test]
    public void PromptLookupAndScriptedTreesEqualGreedy()
    {
        var random = new Random(31);
        double accepted = 0;
        for (var p = 0; p < 5; p++)
        {
            // Repetitive prompts, longer than the window, so prompt lookup drafts (the random model mostly rejects them).
            var unit = GeneratorEquivalenceTests.RandomPrompt(random, random.Next(3, 7));
            int[] prompt = [.. Enumerable.Repeat(unit, 4).SelectMany(u => u)];
            var baseline = _generator.Generate(prompt, Greedy);
            // A fixed budget, so drafts are verified whatever the auto budget would judge worth it on this machine.
            var lookup = _generator.Generate(prompt, Greedy with { Drafting = DraftingStrategy.PromptLookup, Draft = new DraftOptions { Budget = 16 } });
            Assert.That(lookup.Tokens, Is.EqualTo(baseline.Tokens), $"prompt lookup, prompt {p}");
            Assert.That(lookup.Statistics.DraftTokensVerified, Is.GreaterThan(0), "drafts were verified");
            var auto = _generator.Generate(prompt, Greedy with { Drafting = DraftingStrategy.PromptLookup });
            Assert.That(auto.Tokens, Is.EqualTo(baseline.Tokens), $"prompt lookup at the auto budget, prompt {p}");
            accepted += lookup.Statistics.MeanAcceptedTokensPerStep;

            // Trees deeper than the window holding the baseline's continuation behind wrong siblings.
            var source = new ScriptedDraftSource([.. prompt, .. baseline.Tokens], correctDepth: 12, wrongSiblings: 2, seed: p);
            // A fixed tree: the auto budget would trim the scripted tree to what pays on this machine.
            var scripted = _generator.Generate(prompt, Greedy with { Drafting = DraftingStrategy.Custom(source), Draft = new DraftOptions { Budget = 64 } });
            Assert.That(scripted.Tokens, Is.EqualTo(baseline.Tokens), $"scripted tree, prompt {p}");
            Assert.That(scripted.Statistics.MeanAcceptedTokensPerStep, Is.GreaterThan(5), "long accepts across the window");
        }
        TestContext.Out.WriteLine($"sliding window {Window}: prompt lookup mean accepted tokens/step {accepted / 5:F2}");
    }

    [Test]
    public void RestAndHybridEqualGreedy()
    {
        var random = new Random(41);
        var prompts = Enumerable.Range(0, 4).Select(_ => GeneratorEquivalenceTests.RandomPrompt(random, random.Next(10, 24))).ToArray();
        var baselines = prompts.Select(p => _generator.Generate(p, Greedy).Tokens.ToArray()).ToArray();
        var file = TestDatastores.Build(prompts.Select((p, i) => (int[])[.. p, .. baselines[i]])
            .Concat(TestDatastores.RandomDocuments(seed: 42, count: 10, length: 100)));
        _files.Add(file);
        using var store = _model.OpenDatastore(file);
        for (var i = 0; i < prompts.Length; i++)
        {
            var rest = _generator.Generate(prompts[i], Greedy with { Drafting = DraftingStrategy.Rest(store), Draft = new DraftOptions { Budget = 64 } });
            Assert.That(rest.Tokens, Is.EqualTo(baselines[i]), $"REST, prompt {i}");
            Assert.That(rest.Statistics.MeanAcceptedTokensPerStep, Is.GreaterThan(2.0), "multi-token accepts");
            var hybrid = _generator.Generate(prompts[i], Greedy with { Drafting = DraftingStrategy.Hybrid(store) });
            Assert.That(hybrid.Tokens, Is.EqualTo(baselines[i]), $"hybrid, prompt {i}");
        }
    }
}
