using Rest.Onnx.Export;
using Rest.Onnx.Export.Llama;
using Rest.Onnx.Export.Onnx;
using Rest.Onnx.Export.Safetensors;
using Rest.Onnx.Export.Tiny;
using Rest.Onnx.Manifest;
using Rest.Onnx.Tests.Export.Reference;

namespace Rest.Onnx.Tests.Export;

/// <summary>
/// int4 export: the quantizer against its own definition, and the exported MatMulNBits graph (accuracy level 0, float
/// compute) against the managed reference run on the dequantized weights, in both runtime variants; and the distance to
/// the float32 model, printed.
/// </summary>
public class Int4ExportTests
{
    private const double Tolerance = 1e-4;

    private static readonly TinyLlamaOptions Options = new()
    {
        Layers = 2, HiddenSize = 64, Heads = 4, KvHeads = 2, IntermediateSize = 96, VocabSize = 128, Seed = 21,
    };

    [Test]
    public void QuantizerRoundsEachValueToTheNearestPointOfItsBlockGrid()
    {
        var random = new Random(3);
        foreach (var (n, k, block) in new[] { (3, 64, 32), (5, 48, 32), (2, 100, 16), (4, 256, 128) })
        {
            var w = new float[n * k];
            for (var i = 0; i < w.Length; i++) w[i] = (float)(random.NextDouble() * 2 - 1) * (1 + i % 7);
            w[5] = 0; // a zero and an all-zero block must not divide by zero
            if (k >= 2 * block) Array.Clear(w, block, block);
            var (packed, scales) = Int4Quantizer.Quantize(w, n, k, block);
            var blocks = (k + block - 1) / block;
            Assert.That(packed, Has.Length.EqualTo(n * blocks * block / 2));
            Assert.That(scales, Has.Length.EqualTo(n * blocks));
            var back = Int4Quantizer.Dequantize(packed, scales, n, k, block);
            for (var row = 0; row < n; row++)
                for (var i = 0; i < k; i++)
                {
                    // The oracle: the nearest of the 16 grid points (q - 8) x scale of the value's block.
                    var scale = scales[row * blocks + i / block];
                    var v = w[row * k + i];
                    var nearest = Enumerable.Range(0, 16).Min(q => Math.Abs(v - (q - 8) * (double)scale));
                    Assert.That(Math.Abs(back[row * k + i] - v), Is.LessThanOrEqualTo(nearest + 1e-5), $"{n}x{k}/{block} at {row},{i}");
                }
            // The largest magnitude of a block is represented exactly (it maps to -8).
            var blockMax = w.AsSpan(0, Math.Min(block, k)).ToArray().MaxBy(Math.Abs);
            Assert.That(back[Array.IndexOf(w, blockMax)], Is.EqualTo(blockMax).Within(1e-6));
        }
    }

    [TestCase(GraphVariant.Opset23)]
    [TestCase(GraphVariant.Gqa)]
    public void Int4GraphEqualsTheReferenceOnDequantizedWeights(GraphVariant variant)
    {
        using var dir = new TempFolder("rest-int4-");
        TinyLlama.Write(dir.File("hf"), Options);
        var result = LlamaExporter.Export(dir.File("hf"), dir.File("onnx"), new ExportOptions { DType = ModelDType.Int4, Variant = variant });
        Assert.That(result.Manifest.Dtype, Is.EqualTo(ModelDType.Int4));
        Assert.That(File.ReadAllText(dir.File("onnx/model.onnx")), Does.Contain("MatMulNBits"));
        WriteDequantized(dir.File("hf"), dir.File("hf-dq"), ExportOptions.DefaultInt4BlockSize);

        using var onnx = new OnnxDecoder(dir.File("onnx"));
        var reference = new LlamaReference(dir.File("hf-dq"));
        int[] prompt = [1, 17, 42, 5, 99, 3, 64, 8];
        var expected = reference.Run(prompt);
        var actual = onnx.Step(prompt.Select(t => (long)t).ToArray(), Enumerable.Range(0, prompt.Length).Select(p => (long)p).ToArray(),
            Logits.Causal(0, prompt.Length));
        for (var i = 0; i < prompt.Length; i++)
            Assert.That(Logits.RelativeMaxDiff(actual[i], expected[i]), Is.LessThan(Tolerance), $"position {i}");
        var next = Logits.ArgMax(actual[^1]);
        var e = reference.Forward(next);
        var a = onnx.Step([next], [prompt.Length], Logits.Causal(prompt.Length, 1))[0];
        Assert.That(Logits.RelativeMaxDiff(a, e), Is.LessThan(Tolerance), "cached decoding step");

        // Not a pass criterion, a figure: how far 4-bit weights move the logits of this random model.
        var fp32 = new LlamaReference(dir.File("hf")).Run(prompt);
        var worst = Enumerable.Range(0, prompt.Length).Max(i => fp32[i].Zip(actual[i], (x, y) => Math.Abs(x - y)).Max());
        TestContext.Out.WriteLine($"int4 vs fp32 max |logit error| over the prompt: {worst:G3}");
    }

    [Test]
    public void DraftedGreedyEqualsItsOwnBaselineAtAccuracyLevel4()
    {
        // Accuracy level 4 quantizes activations to int8 per row block; drafts must still reproduce the model's own greedy.
        using var dir = new TempFolder("rest-int4-a4-");
        TinyLlama.Write(dir.File("hf"), Options with { VocabSize = 512, MaxPositions = 256 });
        LlamaExporter.Export(dir.File("hf"), dir.File("onnx"), new ExportOptions { DType = ModelDType.Int4, Variant = GraphVariant.Gqa, Int4AccuracyLevel = 4 });
        using var model = RestModel.Load(dir.File("onnx"), new ModelOptions { MaxSequenceLength = 256, IntraOpThreads = 1 });
        using var generator = model.CreateGenerator();
        var greedy = new GenerationOptions { MaxNewTokens = 24, StopTokenIds = [] };
        var random = new Random(31);
        for (var p = 0; p < 6; p++)
        {
            var prompt = Runtime.GeneratorEquivalenceTests.RandomPrompt(random, random.Next(2, 30));
            var baseline = generator.Generate(prompt, greedy);
            int[] full = [.. prompt, .. baseline.Tokens];
            var scripted = generator.Generate(prompt, greedy with { Drafting = DraftingStrategy.Custom(new Runtime.ScriptedDraftSource(full, 6, 2, seed: p)) });
            var lookup = generator.Generate(prompt, greedy with { Drafting = DraftingStrategy.PromptLookup });
            Assert.That(scripted.Tokens, Is.EqualTo(baseline.Tokens), $"scripted drafts, prompt {p}");
            Assert.That(lookup.Tokens, Is.EqualTo(baseline.Tokens), $"prompt lookup, prompt {p}");
            Assert.That(scripted.Statistics.VerificationSteps, Is.LessThan(baseline.Statistics.VerificationSteps), "drafts were accepted");
        }
    }

    /// <summary>A copy of a Hugging Face folder whose linear weights (not embedding or norms) went through int4 and back.</summary>
    internal static void WriteDequantized(string hfFolder, string outFolder, int block)
    {
        Directory.CreateDirectory(outFolder);
        File.Copy(Path.Combine(hfFolder, "config.json"), Path.Combine(outFolder, "config.json"));
        using var checkpoint = SafetensorsCheckpoint.Open(hfFolder);
        var entries = new List<SafetensorsEntry>();
        foreach (var name in checkpoint.TensorNames.Order(StringComparer.Ordinal))
        {
            var shape = checkpoint.Get(name).Shape;
            var linear = shape.Length == 2 && name != LlamaTensorNames.Embedding;
            entries.Add(new SafetensorsEntry(name, shape, () =>
            {
                var data = checkpoint.ReadFloat32(name, shape);
                if (!linear) return data;
                var (packed, scales) = Int4Quantizer.Quantize(data, (int)shape[0], (int)shape[1], block);
                return Int4Quantizer.Dequantize(packed, scales, (int)shape[0], (int)shape[1], block);
            }));
        }
        SafetensorsWriter.Write(Path.Combine(outFolder, SafetensorsCheckpoint.SingleFileName), entries);
    }
}
