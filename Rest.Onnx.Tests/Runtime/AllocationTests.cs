using Rest.Onnx.Manifest;

namespace Rest.Onnx.Tests.Runtime;

/// <summary>A decoding step allocates a small constant on the managed heap, nothing that grows with the cache.</summary>
public class AllocationTests
{
    [TestCase("none", GraphVariant.Opset23)]
    [TestCase("promptlookup", GraphVariant.Opset23)]
    [TestCase("none", GraphVariant.Gqa)]
    [TestCase("promptlookup", GraphVariant.Gqa)]
    public void ManagedBytesPerStepStayConstantAsTheCacheGrows(string strategy, GraphVariant variant)
    {
        var drafting = strategy == "none" ? DraftingStrategy.None : DraftingStrategy.PromptLookup;
        var folder = TinyModels.Folder(TinyModels.Default, new Rest.Onnx.Export.ExportOptions { Variant = variant });
        using var model = RestModel.Load(folder, new ModelOptions { MaxSequenceLength = 256, IntraOpThreads = 1 });
        using var generator = model.CreateGenerator();
        int[] prompt = [1, 10, 11, 12, 10, 11, 12];
        var options = new GenerationOptions { StopTokenIds = [], Drafting = drafting };
        generator.Generate(prompt, options with { MaxNewTokens = 8 }); // warm up

        var (shortBytes, shortSteps) = Measure(generator, prompt, options with { MaxNewTokens = 20 });
        var (longBytes, longSteps) = Measure(generator, prompt, options with { MaxNewTokens = 220 });
        var perStep = (double)(longBytes - shortBytes) / (longSteps - shortSteps);
        TestContext.Out.WriteLine($"{drafting} {variant}: {perStep:F0} managed bytes per step");

        // One layer's key cache at the end alone is 2 heads x 227 positions x 16 x 4 bytes = 29 KB.
        Assert.That(perStep, Is.LessThan(6000));
        // A shared (gqa) cache is bound once; a step then creates only the mask's tensor header (and ONNX Runtime's
        // managed API marshals the four names it rebinds); drafting and the auto budget's selection and cost curve add nothing.
        if (variant == GraphVariant.Gqa) Assert.That(perStep, Is.LessThan(600));
    }

    private static (long Bytes, int Steps) Measure(Generator generator, int[] prompt, GenerationOptions options)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = generator.Generate(prompt, options);
        return (GC.GetAllocatedBytesForCurrentThread() - before, result.Statistics.VerificationSteps);
    }
}
