namespace Rest.Onnx.Tests.Runtime;

public class GeneratorLifecycleTests
{
    private static readonly GenerationOptions Greedy = new() { MaxNewTokens = 30, StopTokenIds = [] };

    [Test]
    public void GeneratorsOfOneModelRunInParallelWithTheSequentialResults()
    {
        using var model = RestModel.Load(TinyModels.Folder(TinyModels.Default), new ModelOptions { MaxSequenceLength = 128, IntraOpThreads = 1 });
        var random = new Random(15);
        var prompts = Enumerable.Range(0, 4).Select(_ => GeneratorEquivalenceTests.RandomPrompt(random, random.Next(2, 20))).ToArray();
        int[][] sequential;
        using (var generator = model.CreateGenerator())
            sequential = [.. prompts.Select(p => generator.Generate(p, Greedy).Tokens.ToArray())];

        var parallel = new int[prompts.Length][];
        Parallel.For(0, prompts.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            using var generator = model.CreateGenerator();
            parallel[i] = [.. generator.Generate(prompts[i], Greedy with { Drafting = DraftingStrategy.PromptLookup }).Tokens];
        });
        Assert.That(parallel, Is.EqualTo(sequential));
    }

    [Test]
    public void BudgetAboveThePrefillChunkGrowsTheBuffersOnce()
    {
        using var model = RestModel.Load(TinyModels.Folder(TinyModels.Default), new ModelOptions { MaxSequenceLength = 256, IntraOpThreads = 1 });
        using var generator = model.CreateGenerator();
        int[] prompt = [1, 300, 301, 302];
        var baseline = generator.Generate(prompt, Greedy).Tokens.ToArray();
        // 12 levels with 8 wrong siblings (+ a dead child each) per level: about 200 nodes per step.
        var source = new ScriptedDraftSource([.. prompt, .. baseline], correctDepth: 12, wrongSiblings: 8, seed: 1);
        var wide = generator.Generate(prompt, Greedy with { Drafting = DraftingStrategy.Custom(source), Draft = new() { Budget = 220 } });
        Assert.That(wide.Tokens, Is.EqualTo(baseline));
        Assert.That(wide.Statistics.DraftTokensVerified / (double)wide.Statistics.VerificationSteps, Is.GreaterThan(128), "steps wider than the 128-row prefill buffers");
        Assert.That(generator.Generate(prompt, Greedy).Tokens, Is.EqualTo(baseline), "back to the default budget");
    }
}
