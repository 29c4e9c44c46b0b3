using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Rest.Onnx.Export;
using Rest.Onnx.Export.Tiny;
using Rest.Onnx.Tests.Export.Reference;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Tests.Export;

/// <summary>fp16 and GenAI exports of one GQA checkpoint, checked against the fp32 opset-23 export.</summary>
public class ExportVariantTests
{
    /// <summary>fp16 tolerance: max |fp16 - fp32| &lt;= 1e-2 x max(1, max |fp32 logit|) (weights, activations and KV in half precision).</summary>
    private const double Float16Tolerance = 1e-2;

    private static readonly TinyLlamaOptions Options = new()
    {
        Layers = 2, HiddenSize = 64, Heads = 4, KvHeads = 2, IntermediateSize = 128, VocabSize = 200, Seed = 21, BosTokenId = 1, EosTokenId = 2,
    };

    private static readonly long[] Prompt = [1, 30, 31, 150, 7, 8, 9];

    private TempFolder _dir = null!;

    [OneTimeSetUp]
    public void Export()
    {
        _dir = new TempFolder("rest-export-variants-");
        File.WriteAllBytes(_dir.File("tokenizer.model"), [9, 8, 7, 6]);
        TinyLlama.Write(_dir.File("hf"), Options with { TokenizerPath = _dir.File("tokenizer.model") });
        LlamaExporter.Export(_dir.File("hf"), _dir.File("fp32"));
    }

    [OneTimeTearDown]
    public void Cleanup() => _dir?.Dispose();

    private static long[] Positions(int from, int count) => Enumerable.Range(from, count).Select(p => (long)p).ToArray();

    [Test]
    public void ManifestDescribesTheGraphAndFingerprintsTheCopiedTokenizer()
    {
        var m = ModelManifest.Load(_dir.File("fp32"));
        Assert.That((m.NumLayers, m.NumHeads, m.NumKvHeads, m.HeadSize, m.VocabSize), Is.EqualTo((2, 4, 2, 16, 200)));
        Assert.That((m.Dtype, m.GraphVariant, m.Opset), Is.EqualTo((ModelDType.Float32, GraphVariant.Opset23, 23)));
        var json = File.ReadAllText(Path.Combine(_dir.File("fp32"), ModelManifest.FileName));
        Assert.That(json, Does.Contain("\"dtype\": \"float32\"").And.Contain("\"graphVariant\": \"opset23\""));
        Assert.That(m.EosTokenIds, Is.EqualTo(new[] { 2 }));
        Assert.That(m.TokenizerFile, Is.EqualTo("tokenizer.model"));
        Assert.That(File.ReadAllBytes(_dir.File("fp32/tokenizer.model")), Is.EqualTo(new byte[] { 9, 8, 7, 6 }));
        Assert.That(m.TokenizerFingerprint, Is.EqualTo(Rest.Onnx.Tokenization.TokenizerFingerprint.OfBytes([9, 8, 7, 6])));
    }

    [Test]
    public void Float16ExportLoadsOnCpuAndAgreesWithFloat32()
    {
        var result = LlamaExporter.Export(_dir.File("hf"), _dir.File("fp16"), new ExportOptions { DType = ModelDType.Float16 });
        Assert.That(result.Manifest.Dtype, Is.EqualTo(ModelDType.Float16));
        Assert.That(File.ReadAllText(result.ManifestPath), Does.Contain("\"dtype\": \"float16\""));
        Assert.That(new FileInfo(_dir.File("fp16/model.onnx.data")).Length, Is.LessThan(new FileInfo(_dir.File("fp32/model.onnx.data")).Length * 0.6));
        using var fp32 = new OnnxDecoder(_dir.File("fp32"));
        using var fp16 = new OnnxDecoder(_dir.File("fp16"));
        var a = fp32.Step(Prompt, Positions(0, Prompt.Length), Logits.Causal(0, Prompt.Length));
        var b = fp16.Step(Prompt, Positions(0, Prompt.Length), Logits.Causal(0, Prompt.Length));
        double worst = 0;
        for (int i = 0; i < Prompt.Length; i++) worst = Math.Max(worst, Logits.RelativeMaxDiff(b[i], a[i]));
        // Then two cached decode steps in half precision.
        for (int step = 0; step < 2; step++)
        {
            long next = Logits.ArgMax(a[^1]);
            int pos = fp32.PastLength;
            a = fp32.Step([next], [pos], Logits.Causal(pos, 1));
            b = fp16.Step([next], [pos], Logits.Causal(pos, 1));
            worst = Math.Max(worst, Logits.RelativeMaxDiff(b[0], a[0]));
        }
        TestContext.Out.WriteLine($"fp16 vs fp32 worst relative diff {worst:E2}");
        Assert.That(worst, Is.LessThan(Float16Tolerance));
        Assert.That(worst, Is.GreaterThan(0), "the fp16 graph really computes in half precision");
    }

    [Test]
    public void GenAiVariantMatchesThe4DMaskGraphAndWritesItsConfig()
    {
        var result = LlamaExporter.Export(_dir.File("hf"), _dir.File("genai"), new ExportOptions { Variant = GraphVariant.GenAI, MaxPositions = 128 });
        Assert.That(result.Manifest.GraphVariant, Is.EqualTo(GraphVariant.GenAI));
        Assert.That(File.ReadAllText(result.ManifestPath), Does.Contain("\"graphVariant\": \"genai\""));
        using var four = new OnnxDecoder(_dir.File("fp32"));
        using var genai = new OnnxDecoder(_dir.File("genai"));

        AssertPrefillAndCachedStepMatch(four, genai);

        // Padding: a 0 in the 2D mask hides that key, like a -1e9 column in the 4D mask.
        four.Reset();
        genai.Reset();
        var padded4d = Logits.Causal(0, 4);
        for (int i = 0; i < 4; i++) padded4d[i, 1] = i == 1 ? 0 : -1e9f; // row 1 keeps itself only
        var a = four.Step([1, 40, 41, 42], [0, 1, 2, 3], padded4d);
        var b = genai.StepGenAi([1, 40, 41, 42], [0, 1, 2, 3], [1, 0, 1, 1]);
        foreach (int i in new[] { 0, 2, 3 }) Assert.That(Logits.RelativeMaxDiff(b[i], a[i]), Is.LessThan(1e-5), $"padded row {i}");

        var config = JsonNode.Parse(File.ReadAllText(_dir.File("genai/genai_config.json")))!;
        var model = config["model"]!;
        Assert.That((string?)model["type"], Is.EqualTo("llama"));
        Assert.That((int?)model["context_length"], Is.EqualTo(128));
        Assert.That((int?)model["vocab_size"], Is.EqualTo(200));
        Assert.That((int?)model["eos_token_id"], Is.EqualTo(2));
        Assert.That((int?)model["bos_token_id"], Is.EqualTo(1));
        Assert.That((int?)model["pad_token_id"], Is.EqualTo(0));
        var decoder = model["decoder"]!;
        Assert.That((string?)decoder["filename"], Is.EqualTo("model.onnx"));
        Assert.That(((int?)decoder["head_size"], (int?)decoder["num_attention_heads"], (int?)decoder["num_key_value_heads"], (int?)decoder["num_hidden_layers"]),
            Is.EqualTo(((int?)16, (int?)4, (int?)2, (int?)2)));
        Assert.That((string?)decoder["inputs"]!["past_key_names"], Is.EqualTo("past_key_values.%d.key"));
        Assert.That((string?)decoder["outputs"]!["present_value_names"], Is.EqualTo("present.%d.value"));
        Assert.That((bool?)config["search"]!["past_present_share_buffer"], Is.False);
        Assert.That((int?)config["search"]!["max_length"], Is.LessThanOrEqualTo(128));
    }

    [Test]
    public void GenAiGqaVariantMatchesThe4DMaskGraphAndSharesItsBuffer()
    {
        var result = LlamaExporter.Export(_dir.File("hf"), _dir.File("genai-gqa"), new ExportOptions { Variant = GraphVariant.GenAIGqa, MaxPositions = 128 });
        Assert.That(File.ReadAllText(result.ManifestPath), Does.Contain("\"graphVariant\": \"genai-gqa\""));
        Assert.That(File.ReadAllText(_dir.File("genai-gqa/model.onnx")), Does.Contain("GroupQueryAttention"));
        using var four = new OnnxDecoder(_dir.File("fp32"));
        using var genai = new OnnxDecoder(_dir.File("genai-gqa"));
        AssertPrefillAndCachedStepMatch(four, genai);
        var config = JsonNode.Parse(File.ReadAllText(_dir.File("genai-gqa/genai_config.json")))!;
        Assert.That((bool?)config["search"]!["past_present_share_buffer"], Is.True);
    }

    [Test]
    public void BatchOfTwoPromptsEqualsTwoSingleRuns()
    {
        long[][] prompts = [[1, 30, 31, 150], [1, 77, 5, 6]];
        using var single = new OnnxDecoder(_dir.File("fp32"));
        var expected = prompts.Select(p => { single.Reset(); return single.Step(p, Positions(0, 4), Logits.Causal(0, 4)); }).ToArray();

        var m = single.Manifest;
        var mask = new float[2 * 4 * 4];
        for (int b = 0; b < 2; b++) for (int i = 0; i < 4; i++) for (int j = i + 1; j < 4; j++) mask[b * 16 + i * 4 + j] = -1e9f;
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(prompts.SelectMany(p => p).ToArray(), [2, 4])),
            NamedOnnxValue.CreateFromTensor("position_ids", new DenseTensor<long>(Positions(0, 4).Concat(Positions(0, 4)).ToArray(), [2, 4])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<float>(mask, [2, 1, 4, 4])),
        };
        for (int l = 0; l < m.NumLayers; l++)
            foreach (var kind in new[] { "key", "value" })
                inputs.Add(NamedOnnxValue.CreateFromTensor($"past_key_values.{l}.{kind}", new DenseTensor<float>(Array.Empty<float>(), [2, m.NumKvHeads, 0, m.HeadSize])));
        using var session = new InferenceSession(_dir.File("fp32/model.onnx"));
        using var results = session.Run(inputs);
        var logits = results.First(r => r.Name == "logits").AsTensor<float>();
        Assert.That(logits.Dimensions.ToArray(), Is.EqualTo(new[] { 2, 4, m.VocabSize }));
        var present = results.First(r => r.Name == "present.1.value").AsTensor<float>();
        Assert.That(present.Dimensions.ToArray(), Is.EqualTo(new[] { 2, m.NumKvHeads, 4, m.HeadSize }));
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 4; i++)
            {
                var row = Enumerable.Range(0, m.VocabSize).Select(v => logits[b, i, v]).ToArray();
                Assert.That(Logits.RelativeMaxDiff(row, expected[b][i]), Is.LessThan(1e-5), $"batch {b} row {i}");
            }
    }

    /// <summary>
    /// A 2D-mask (genai) graph equals the 4D-mask graph on a causal prefill (the graph builds the mask from an all-ones
    /// 2D mask), then on a 2-token step with past whose causal part the graph must add itself.
    /// </summary>
    private static void AssertPrefillAndCachedStepMatch(OnnxDecoder four, OnnxDecoder genai)
    {
        var a = four.Step(Prompt, Positions(0, Prompt.Length), Logits.Causal(0, Prompt.Length));
        var b = genai.StepGenAi(Prompt, Positions(0, Prompt.Length), Enumerable.Repeat(1L, Prompt.Length).ToArray());
        for (int i = 0; i < Prompt.Length; i++) Assert.That(Logits.RelativeMaxDiff(b[i], a[i]), Is.LessThan(1e-5), $"prefill row {i}");
        a = four.Step([5, 6], [7, 8], Logits.Causal(7, 2));
        b = genai.StepGenAi([5, 6], [7, 8], Enumerable.Repeat(1L, 9).ToArray());
        for (int i = 0; i < 2; i++) Assert.That(Logits.RelativeMaxDiff(b[i], a[i]), Is.LessThan(1e-5), $"cached row {i}");
    }
}
