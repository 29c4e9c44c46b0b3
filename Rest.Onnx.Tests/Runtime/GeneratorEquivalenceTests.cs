using Rest.Onnx.Manifest;

namespace Rest.Onnx.Tests.Runtime;

[TestFixture(GraphVariant.Opset23, ModelDType.Float32)]
[TestFixture(GraphVariant.Gqa, ModelDType.Float32)]
[TestFixture(GraphVariant.Opset23, ModelDType.Int4)]
[TestFixture(GraphVariant.Gqa, ModelDType.Int4)]
public class GeneratorEquivalenceTests(GraphVariant variant, ModelDType dtype) : TinyModelFixture(variant, dtype)
{

    private static readonly GenerationOptions Greedy = new() { MaxNewTokens = 24, StopTokenIds = [] };

    [Test]
    public void BaselineEqualsFullRecomputationWithoutCache()
    {
        int[] prompt = [1, 17, 300, 42, 5, 99, 230];
        var expected = NaiveDecoder.Greedy(ModelFolder, prompt, 12);
        var actual = Generator.Generate(prompt, Greedy with { MaxNewTokens = 12 });
        Assert.That(actual.Tokens, Is.EqualTo(expected));
        Assert.That(actual.Statistics.VerificationSteps, Is.EqualTo(12));
        Assert.That(actual.Statistics.MeanAcceptedTokensPerStep, Is.EqualTo(1.0));
    }

    [Test]
    public void PromptLookupGreedyEqualsBaselineForManyPrompts()
    {
        var random = new Random(21);
        var accepted = 0.0;
        for (var p = 0; p < 8; p++)
        {
            var prompt = RandomPrompt(random, random.Next(1, 40));
            var baseline = Generator.Generate(prompt, Greedy);
            var lookup = Generator.Generate(prompt, Greedy with { Drafting = DraftingStrategy.PromptLookup });
            Assert.That(lookup.Tokens, Is.EqualTo(baseline.Tokens), $"prompt {p}: [{string.Join(" ", prompt)}]");
            accepted += lookup.Statistics.MeanAcceptedTokensPerStep;
        }
        TestContext.Out.WriteLine($"prompt lookup mean accepted tokens/step over prompts: {accepted / 8:F2}");
    }

    internal static int[] RandomPrompt(Random random, int length)
    {
        var prompt = new int[length];
        prompt[0] = 1;
        for (var i = 1; i < length; i++) prompt[i] = random.Next(3, 512);
        return prompt;
    }
}

[TestFixture(GraphVariant.Opset23, ModelDType.Float32)]
[TestFixture(GraphVariant.Gqa, ModelDType.Float32)]
[TestFixture(GraphVariant.Opset23, ModelDType.Int4)]
[TestFixture(GraphVariant.Gqa, ModelDType.Int4)]
public class ScriptedDraftEquivalenceTests(GraphVariant variant, ModelDType dtype) : TinyModelFixture(variant, dtype)
{
    // A fixed budget: these tests check the verification of whole scripted trees.
    private static readonly GenerationOptions Greedy = new() { MaxNewTokens = 40, StopTokenIds = [], Draft = new() { Budget = 64 } };

    // (a) drafts hold the baseline's own continuation, (b) unrelated tokens, (c) a partial match;
    // wrong siblings come first in each level, so accepted rows are scattered through the batch.
    [TestCase(12, 0, TestName = "ExactContinuationChain")]
    [TestCase(12, 2, TestName = "ExactContinuationBehindWrongSiblings")]
    [TestCase(0, 3, TestName = "UnrelatedDrafts")]
    [TestCase(3, 1, TestName = "PartialMatch")]
    public void GreedyOutputEqualsBaseline(int correctDepth, int wrongSiblings)
    {
        var random = new Random(100 + correctDepth * 10 + wrongSiblings);
        for (var p = 0; p < 5; p++)
        {
            var prompt = GeneratorEquivalenceTests.RandomPrompt(random, random.Next(1, 30));
            var baseline = Generator.Generate(prompt, Greedy);
            int[] full = [.. prompt, .. baseline.Tokens];
            var source = new ScriptedDraftSource(full, correctDepth, wrongSiblings, seed: p);
            var drafted = Generator.Generate(prompt, Greedy with { Drafting = DraftingStrategy.Custom(source) });

            Assert.That(drafted.Tokens, Is.EqualTo(baseline.Tokens), $"prompt {p}");
            var stats = drafted.Statistics;
            if (correctDepth >= 3)
            {
                Assert.That(stats.MeanAcceptedTokensPerStep, Is.GreaterThan(correctDepth >= 12 ? 5 : 2), "long accepts happened");
                Assert.That(stats.VerificationSteps, Is.LessThan(baseline.Statistics.VerificationSteps));
            }
            else
            {
                Assert.That(stats.VerificationSteps, Is.EqualTo(baseline.Statistics.VerificationSteps).Within(2), "unrelated drafts are (almost) all rejected");
            }
            Assert.That(stats.AcceptedLengthHistogram.Sum(), Is.EqualTo(stats.VerificationSteps));
            Assert.That(stats.DraftTokensVerified, Is.GreaterThan(0));
        }
    }

    // The automatic budget verifies a varying subset of the same trees (scored by the depth-only calibration):
    // the output must not change, whatever it picks.
    [TestCase(12, 2)]
    [TestCase(0, 3)]
    [TestCase(3, 1)]
    public void AutoBudgetGreedyOutputEqualsBaseline(int correctDepth, int wrongSiblings)
    {
        var random = new Random(200 + correctDepth * 10 + wrongSiblings);
        for (var p = 0; p < 5; p++)
        {
            var prompt = GeneratorEquivalenceTests.RandomPrompt(random, random.Next(1, 30));
            var baseline = Generator.Generate(prompt, Greedy);
            int[] full = [.. prompt, .. baseline.Tokens];
            var source = new ScriptedDraftSource(full, correctDepth, wrongSiblings, seed: p);
            var drafted = Generator.Generate(prompt, Greedy with { Drafting = DraftingStrategy.Custom(source), Draft = new() { Budget = DraftOptions.AutoBudget } });
            Assert.That(drafted.Tokens, Is.EqualTo(baseline.Tokens), $"prompt {p}");
            Assert.That(drafted.Statistics.AcceptedLengthHistogram.Sum(), Is.EqualTo(drafted.Statistics.VerificationSteps));
        }
        Assert.That(Model.StepCosts.IsCalibrated, "the first auto step calibrates the step-cost model");
    }
}
