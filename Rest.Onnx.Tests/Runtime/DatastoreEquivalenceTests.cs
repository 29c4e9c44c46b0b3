using Rest.Onnx.Manifest;

namespace Rest.Onnx.Tests.Runtime;

/// <summary>REST greedy output equals the baseline token for token, whatever the datastore holds.</summary>
[TestFixture(GraphVariant.Opset23, ModelDType.Float32)]
[TestFixture(GraphVariant.Gqa, ModelDType.Float32)]
[TestFixture(GraphVariant.Opset23, ModelDType.Int4)]
[TestFixture(GraphVariant.Gqa, ModelDType.Int4)]
public class DatastoreEquivalenceTests(GraphVariant variant, ModelDType dtype) : TinyModelFixture(variant, dtype)
{
    private static readonly GenerationOptions Greedy = new() { MaxNewTokens = 32, StopTokenIds = [] };
    private readonly List<string> _files = [];
    private int[][] _prompts = null!;
    private int[][] _baselines = null!;

    [OneTimeSetUp]
    public void Open()
    {
        var random = new Random(77);
        _prompts = [.. Enumerable.Range(0, 6).Select(_ => GeneratorEquivalenceTests.RandomPrompt(random, random.Next(2, 24)))];
        _baselines = [.. _prompts.Select(p => Generator.Generate(p, Greedy).Tokens.ToArray())];
    }

    [OneTimeTearDown]
    public void Close()
    {
        foreach (var file in _files) File.Delete(file);
    }

    [Test]
    public void DatastoreWithTheBaselinesOwnContinuationGivesLongAccepts()
    {
        // (a) every prompt followed by the model's own greedy continuation
        var stats = Run(_prompts.Select((p, i) => (int[])[.. p, .. _baselines[i]]));
        Assert.That(stats.Min(s => s.MeanAcceptedTokensPerStep), Is.GreaterThan(2.0), "multi-token accepts happened on every prompt");
        Assert.That(stats.Sum(s => s.AcceptedLengthHistogram.Skip(3).Sum()), Is.GreaterThan(0), "some steps accepted 3+ tokens");
    }

    [Test]
    public void DatastoreOfUnrelatedTextIsMostlyRejected()
    {
        // (b) random documents: drafts exist (short matches) but are nearly always wrong
        var stats = Run(TestDatastores.RandomDocuments(seed: 5, count: 40, length: 200));
        Assert.That(stats.Sum(s => s.DraftTokensVerified), Is.GreaterThan(0), "drafts were verified");
        Assert.That(stats.Average(s => s.MeanAcceptedTokensPerStep), Is.LessThan(1.3));
    }

    [Test]
    public void PartiallyMatchingDatastoreAcceptsPrefixes()
    {
        // (c) the continuations with every fourth token replaced, among unrelated documents
        var random = new Random(9);
        var corrupted = _prompts.Select((p, i) =>
        {
            int[] doc = [.. p, .. _baselines[i]];
            for (var j = p.Length + 2; j < doc.Length; j += 4) doc[j] = random.Next(3, 512);
            return doc;
        });
        var stats = Run(corrupted.Concat(TestDatastores.RandomDocuments(seed: 6, count: 10, length: 100)));
        var mean = stats.Average(s => s.MeanAcceptedTokensPerStep);
        Assert.That(mean, Is.GreaterThan(1.1));
    }

    [Test]
    public void SeveralDatastoresUseTheLongestMatch()
    {
        var unrelated = Track(TestDatastores.Build(TestDatastores.RandomDocuments(seed: 8, count: 20, length: 100)));
        var exact = Track(TestDatastores.Build(_prompts.Select((p, i) => (int[])[.. p, .. _baselines[i]])));
        using var a = Model.OpenDatastore(unrelated);
        using var b = Model.OpenDatastore(exact);
        var options = Greedy with { Drafting = DraftingStrategy.Rest(a, b), Draft = new DraftOptions { Budget = 64 } };
        for (var i = 0; i < _prompts.Length; i++)
        {
            var result = Generator.Generate(_prompts[i], options);
            Assert.That(result.Tokens, Is.EqualTo(_baselines[i]));
            Assert.That(result.Statistics.MeanAcceptedTokensPerStep, Is.GreaterThan(2.0));
        }
    }

    private List<GenerationStatistics> Run(IEnumerable<int[]> documents)
    {
        using var store = Model.OpenDatastore(Track(TestDatastores.Build(documents)));
        // A fixed budget for the statistics the callers assert; the hybrid runs below cover the auto budget.
        var options = Greedy with { Drafting = DraftingStrategy.Rest(store), Draft = new DraftOptions { Budget = 64 } };
        var all = new List<GenerationStatistics>();
        for (var i = 0; i < _prompts.Length; i++)
        {
            var result = Generator.Generate(_prompts[i], options);
            Assert.That(result.Tokens, Is.EqualTo(_baselines[i]), $"prompt {i}");
            all.Add(result.Statistics);
            var hybrid = Generator.Generate(_prompts[i], options with { Drafting = DraftingStrategy.Hybrid(store), Draft = DraftOptions.Default });
            Assert.That(hybrid.Tokens, Is.EqualTo(_baselines[i]), $"prompt {i}, hybrid (auto budget)");
            var fixedBudget = Generator.Generate(_prompts[i], options with { Drafting = DraftingStrategy.Hybrid(store), Draft = new() { Budget = 64 } });
            Assert.That(fixedBudget.Tokens, Is.EqualTo(_baselines[i]), $"prompt {i}, hybrid@64");
            var history = Generator.Generate(_prompts[i], options with { Drafting = DraftingStrategy.Hybrid(store), Draft = DraftOptions.Default, DraftFromHistory = true });
            Assert.That(history.Tokens, Is.EqualTo(_baselines[i]), $"prompt {i}, hybrid with history");
        }
        return all;
    }

    private string Track(string file)
    {
        _files.Add(file);
        return file;
    }
}

public class AdaptiveBudgetTests
{
    [Test]
    public void BudgetHalvesOnRejectionAndDoublesOnDeepAccepts()
    {
        Assert.That(Generator.AdaptBudget(16, 64, acceptedDrafts: 0, treeDepth: 5), Is.EqualTo(8));
        Assert.That(Generator.AdaptBudget(1, 64, 0, 3), Is.EqualTo(1));
        Assert.That(Generator.AdaptBudget(16, 64, 3, 6), Is.EqualTo(32));
        Assert.That(Generator.AdaptBudget(48, 64, 10, 10), Is.EqualTo(64));
        Assert.That(Generator.AdaptBudget(16, 64, 1, 8), Is.EqualTo(16));
    }

    [Test]
    public void AdaptiveBudgetKeepsTheOutputAndCutsWastedRows()
    {
        using var model = RestModel.Load(TinyModels.Folder(TinyModels.Default), new ModelOptions { MaxSequenceLength = 256, IntraOpThreads = 1 });
        using var generator = model.CreateGenerator();
        var greedy = new GenerationOptions { MaxNewTokens = 40, StopTokenIds = [], Draft = new() { Budget = 64 } };
        var random = new Random(3);
        var prompt = GeneratorEquivalenceTests.RandomPrompt(random, 12);
        var baseline = generator.Generate(prompt, greedy).Tokens.ToArray();
        // Every bigram of the output, each followed by wrong continuations: drafts at every step, all rejected.
        int[] full = [.. prompt, .. baseline];
        var wrong = new List<int[]>();
        for (var i = 0; i + 1 < full.Length; i++)
            for (var copy = 0; copy < 3; copy++)
                wrong.Add([full[i], full[i + 1], .. Enumerable.Range(0, 8).Select(_ => random.Next(3, 512))]);
        var unrelatedPath = TestDatastores.Build(wrong);
        var ownPath = TestDatastores.Build([[.. prompt, .. baseline]]);
        try
        {
            using var unrelated = model.OpenDatastore(unrelatedPath);
            using var own = model.OpenDatastore(ownPath);
            var fixedWrong = generator.Generate(prompt, greedy with { Drafting = DraftingStrategy.Rest(unrelated) });
            var adaptiveWrong = generator.Generate(prompt, greedy with { Drafting = DraftingStrategy.Rest(unrelated), AdaptiveBudget = true });
            var adaptiveRight = generator.Generate(prompt, greedy with { Drafting = DraftingStrategy.Rest(own), AdaptiveBudget = true });
            Assert.That(adaptiveWrong.Tokens, Is.EqualTo(baseline));
            Assert.That(adaptiveRight.Tokens, Is.EqualTo(baseline));
            Assert.That(fixedWrong.Statistics.DraftTokensVerified, Is.GreaterThan(20 * 20), "the fixed budget verifies big wrong trees");
            Assert.That(adaptiveWrong.Statistics.DraftTokensVerified, Is.LessThan(fixedWrong.Statistics.DraftTokensVerified / 5));
            Assert.That(adaptiveRight.Statistics.MeanAcceptedTokensPerStep, Is.GreaterThan(3));
        }
        finally
        {
            File.Delete(unrelatedPath);
            File.Delete(ownPath);
        }
    }
}
