using Rest.Onnx.Export;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Tests.Runtime;

/// <summary>A float16 export (half-precision KV cache, float32 logits) runs through the same engine.</summary>
public class Float16Tests
{
    [Test]
    public void Float16ModelDraftsEqualItsBaseline()
    {
        var folder = TinyModels.Folder(TinyModels.Default, new ExportOptions { DType = ModelDType.Float16 });
        using var model = RestModel.Load(folder, new ModelOptions { MaxSequenceLength = 128, IntraOpThreads = 1 });
        Assert.That(model.Manifest.KvElementSize, Is.EqualTo(2));
        using var generator = model.CreateGenerator();
        var options = new GenerationOptions { MaxNewTokens = 24, StopTokenIds = [], Draft = new DraftOptions { Budget = 64 } };
        var random = new Random(31);
        for (var p = 0; p < 3; p++)
        {
            var prompt = GeneratorEquivalenceTests.RandomPrompt(random, random.Next(2, 20));
            var baseline = generator.Generate(prompt, options);
            var drafted = generator.Generate(prompt, options with { Drafting = DraftingStrategy.Custom(new ScriptedDraftSource([.. prompt, .. baseline.Tokens], 12, 1, p)) });
            Assert.That(drafted.Tokens, Is.EqualTo(baseline.Tokens), $"prompt {p}");
            Assert.That(drafted.Statistics.MeanAcceptedTokensPerStep, Is.GreaterThan(2));
        }
    }
}
