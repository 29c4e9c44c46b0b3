using System.Text.Json.Nodes;
using Rest.Onnx.Execution;
using Rest.Onnx.Export;
using Rest.Onnx.Export.Llama;
using Rest.Onnx.Export.Safetensors;
using Rest.Onnx.Export.Tiny;
using Rest.Onnx.Manifest;
using Rest.Onnx.Tests.Export.Reference;

namespace Rest.Onnx.Tests.Export;

/// <summary>Mistral and Qwen2 config.json reading, their errors, and their GenAI exports.</summary>
public class ArchitectureConfigTests
{
    private const string Sizes = "\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":4,\"num_attention_heads\":4,\"num_key_value_heads\":2,\"vocab_size\":100";

    private static LlamaConfig Parse(string json)
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("config.json"), json);
        return LlamaConfig.Load(dir.Path);
    }

    [Test]
    public void MistralReadsItsSlidingWindowAndNullMeansNone()
    {
        var v01 = Parse("{\"architectures\":[\"MistralForCausalLM\"]," + Sizes + ",\"sliding_window\":4096,\"rope_theta\":10000.0}");
        Assert.That((v01.Architecture, v01.SlidingWindow, v01.QkvBias, v01.ModelType), Is.EqualTo((LlamaConfig.Mistral, (int?)4096, false, "mistral")));
        var v03 = Parse("{\"architectures\":[\"MistralForCausalLM\"]," + Sizes + ",\"sliding_window\":null,\"rope_theta\":1000000.0}");
        Assert.That(v03.SlidingWindow, Is.Null);
        Assert.That(v03.RopeTheta, Is.EqualTo(1000000.0));
        var byType = Parse("{\"model_type\":\"mistral\"," + Sizes + "}");
        Assert.That((byType.Architecture, byType.SlidingWindow), Is.EqualTo((LlamaConfig.Mistral, (int?)null)));
    }

    [Test]
    public void Qwen2HasBiasesAndItsWindowIsOffUnlessEveryLayerUsesIt()
    {
        // Qwen2.5 style: sliding_window given but use_sliding_window false.
        var off = Parse("{\"architectures\":[\"Qwen2ForCausalLM\"]," + Sizes + ",\"use_sliding_window\":false,\"sliding_window\":131072,\"max_window_layers\":21,\"tie_word_embeddings\":true,\"rope_theta\":1000000.0}");
        Assert.That((off.QkvBias, off.SlidingWindow, off.TiedEmbeddings, off.ModelType), Is.EqualTo((true, (int?)null, true, "qwen2")));
        var all = Parse("{\"architectures\":[\"Qwen2ForCausalLM\"]," + Sizes + ",\"use_sliding_window\":true,\"sliding_window\":32,\"max_window_layers\":0}");
        Assert.That(all.SlidingWindow, Is.EqualTo(32));
        var none = Parse("{\"architectures\":[\"Qwen2ForCausalLM\"]," + Sizes + ",\"use_sliding_window\":true,\"sliding_window\":32,\"max_window_layers\":4}");
        Assert.That(none.SlidingWindow, Is.Null, "max_window_layers >= layers: every layer attends fully");
        var some = Assert.Throws<NotSupportedException>(() =>
            Parse("{\"architectures\":[\"Qwen2ForCausalLM\"]," + Sizes + ",\"use_sliding_window\":true,\"sliding_window\":32,\"max_window_layers\":2}"));
        Assert.That(some!.Message, Does.Contain("only some layers").And.Contain("max_window_layers 2"));
        var mixed = Assert.Throws<NotSupportedException>(() =>
            Parse("{\"architectures\":[\"Qwen2ForCausalLM\"]," + Sizes + ",\"sliding_window\":32,\"layer_types\":[\"full_attention\",\"sliding_attention\",\"full_attention\",\"full_attention\"]}"));
        Assert.That(mixed!.Message, Does.Contain("1 of 4 layers"));
        var uniform = Parse("{\"architectures\":[\"Qwen2ForCausalLM\"]," + Sizes + ",\"sliding_window\":32,\"layer_types\":[\"sliding_attention\",\"sliding_attention\",\"sliding_attention\",\"sliding_attention\"]}");
        Assert.That(uniform.SlidingWindow, Is.EqualTo(32));
    }

    [Test]
    public void UnsupportedArchitectureListsAllThreeAndBadWindowsAreNamed()
    {
        var e = Assert.Throws<NotSupportedException>(() => Parse("{\"architectures\":[\"MixtralForCausalLM\"]," + Sizes + "}"));
        Assert.That(e!.Message, Does.Contain("MixtralForCausalLM").And.Contain("LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM"));
        var type = Assert.Throws<NotSupportedException>(() => Parse("{\"model_type\":\"gemma\"," + Sizes + "}"));
        Assert.That(type!.Message, Does.Contain("\"gemma\"").And.Contain("qwen2"));
        var zero = Assert.Throws<InvalidDataException>(() => Parse("{\"architectures\":[\"MistralForCausalLM\"]," + Sizes + ",\"sliding_window\":0}"));
        Assert.That(zero!.Message, Does.Contain("sliding_window"));
        var bias = Assert.Throws<NotSupportedException>(() => Parse("{\"architectures\":[\"MistralForCausalLM\"]," + Sizes + ",\"mlp_bias\":true}"));
        Assert.That(bias!.Message, Does.Contain("mlp_bias"));
    }

    [TestCase(LlamaConfig.Mistral, 6)]
    [TestCase(LlamaConfig.Qwen2, null)]
    [TestCase(LlamaConfig.Qwen2, 7)]
    public void SaveThenLoadRoundTrips(string architecture, int? window)
    {
        var c = TinyLlama.Config(new TinyLlamaOptions { Architecture = architecture, SlidingWindow = window, TiedEmbeddings = true });
        using var dir = new TempFolder();
        c.Save(dir.File("config.json"));
        var back = LlamaConfig.Load(dir.Path);
        Assert.That((back.Architecture, back.SlidingWindow, back.QkvBias, back.TiedEmbeddings), Is.EqualTo((architecture, window, architecture == LlamaConfig.Qwen2, true)));
    }

    [Test]
    public void MissingQwen2BiasIsNamed()
    {
        using var dir = new TempFolder();
        TinyLlama.Write(dir.File("hf"), new TinyLlamaOptions { Architecture = LlamaConfig.Qwen2, Layers = 1, VocabSize = 64 });
        var path = dir.File("hf/model.safetensors");
        var entries = new List<SafetensorsEntry>();
        using (var file = SafetensorsFile.Open(path))
            foreach (var t in file.Tensors.Values.Where(t => t.Name != LlamaTensorNames.KBias(0)))
            {
                var data = file.ReadFloat32(t.Name);
                entries.Add(new(t.Name, t.Shape, () => data));
            }
        SafetensorsWriter.Write(path, entries);
        var e = Assert.Throws<KeyNotFoundException>(() => LlamaExporter.Export(dir.File("hf"), dir.File("out")));
        Assert.That(e!.Message, Does.Contain(LlamaTensorNames.KBias(0)));
    }

    [TestCase(LlamaConfig.Mistral, 3, "mistral")]
    [TestCase(LlamaConfig.Qwen2, null, "qwen2")]
    public void GenAiVariantAppliesTheWindowAndBiasesAndNamesTheModelType(string architecture, int? window, string genAiType)
    {
        using var dir = new TempFolder();
        var options = new TinyLlamaOptions { Architecture = architecture, SlidingWindow = window, Layers = 2, VocabSize = 150, Seed = 23 };
        TinyLlama.Write(dir.File("hf"), options);
        LlamaExporter.Export(dir.File("hf"), dir.File("fp32"));
        var result = LlamaExporter.Export(dir.File("hf"), dir.File("genai"), new ExportOptions { Variant = GraphVariant.GenAI, MaxPositions = 64 });
        Assert.That(result.Manifest.SlidingWindow, Is.EqualTo(window));
        var config = JsonNode.Parse(File.ReadAllText(dir.File("genai/genai_config.json")))!;
        Assert.That((string?)config["model"]!["type"], Is.EqualTo(genAiType));

        using var four = new OnnxDecoder(dir.File("fp32"));
        using var genai = new OnnxDecoder(dir.File("genai"));
        long[] prompt = [1, 30, 31, 100, 7, 8, 9];
        var a = four.Step(prompt, Positions(0, prompt.Length), Mask(0, prompt.Length, window));
        var b = genai.StepGenAi(prompt, Positions(0, prompt.Length), Enumerable.Repeat(1L, prompt.Length).ToArray());
        for (int i = 0; i < prompt.Length; i++) Assert.That(Logits.RelativeMaxDiff(b[i], a[i]), Is.LessThan(1e-5), $"prefill row {i}");
        a = four.Step([5, 6], [7, 8], Mask(7, 2, window));
        b = genai.StepGenAi([5, 6], [7, 8], Enumerable.Repeat(1L, 9).ToArray());
        for (int i = 0; i < 2; i++) Assert.That(Logits.RelativeMaxDiff(b[i], a[i]), Is.LessThan(1e-5), $"cached row {i}");

        // And both equal the managed reference.
        var reference = new LlamaReference(dir.File("hf"));
        var expected = reference.Run([.. prompt.Select(t => (int)t), 5, 6]);
        Assert.That(Logits.RelativeMaxDiff(b[1], expected[^1]), Is.LessThan(1e-4));
    }

    private static long[] Positions(int from, int count) => Enumerable.Range(from, count).Select(p => (long)p).ToArray();

    private static float[,] Mask(int past, int seq, int? window)
    {
        var flat = new float[seq * (past + seq)];
        VerificationBatch.FillCausal(new int[seq], past, new long[seq], new long[seq], flat, window);
        var m = new float[seq, past + seq];
        for (int i = 0; i < seq; i++) for (int j = 0; j < past + seq; j++) m[i, j] = flat[i * (past + seq) + j];
        return m;
    }
}
