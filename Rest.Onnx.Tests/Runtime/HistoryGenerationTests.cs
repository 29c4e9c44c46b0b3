namespace Rest.Onnx.Tests.Runtime;

/// <summary>Drafting from past outputs across requests: output unchanged, repeated work accepted in long runs.</summary>
public class HistoryGenerationTests : TinyModelFixture
{
    private static readonly GenerationOptions Greedy = new() { MaxNewTokens = 32, StopTokenIds = [] };

    [Test]
    public void ARepeatedRequestDraftsFromTheFirstOnesOutput()
    {
        var store = new TokenHistory(4096);
        var prompt = GeneratorEquivalenceTests.RandomPrompt(new Random(77), 10);
        var baseline = Generator.Generate(prompt, Greedy);
        var options = Greedy with
        {
            Drafting = DraftingStrategy.PromptLookup, DraftFromHistory = true, History = store, Draft = new() { Budget = 16 },
        };
        var first = Generator.Generate(prompt, options);
        Assert.That(store.Count, Is.EqualTo(32 + 1), "the output (and a separator) was added");
        var second = Generator.Generate(prompt, options);
        Assert.That(first.Tokens, Is.EqualTo(baseline.Tokens));
        Assert.That(second.Tokens, Is.EqualTo(baseline.Tokens));
        Assert.That(second.Statistics.MeanAcceptedTokensPerStep, Is.GreaterThan(first.Statistics.MeanAcceptedTokensPerStep + 1),
            $"first {first.Statistics.MeanAcceptedTokensPerStep:F2}, second {second.Statistics.MeanAcceptedTokensPerStep:F2} tokens/step");
    }

    [Test]
    public void PromptsAreAddedOnRequestAndTheModelsStoreIsTheDefault()
    {
        var prompt = GeneratorEquivalenceTests.RandomPrompt(new Random(78), 12);
        var before = Model.History.Count;
        Generator.Generate(prompt, Greedy with { Drafting = DraftingStrategy.PromptLookup, DraftFromHistory = true, AddPromptsToHistory = true });
        Assert.That(Model.History.Count - before, Is.EqualTo(12 + 32 + 1));
        Generator.Generate(prompt, Greedy with { DraftFromHistory = true });
        Assert.That(Model.History.Count - before, Is.EqualTo(12 + 32 + 1), "plain decoding neither drafts from nor adds to the store");
    }
}
