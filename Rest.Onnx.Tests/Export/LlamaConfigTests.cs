using Rest.Onnx.Export.Llama;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Tests.Export;

public class LlamaConfigTests
{
    private static LlamaConfig Parse(string json)
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("config.json"), json);
        return LlamaConfig.Load(dir.Path);
    }

    [Test]
    public void ReadsALlama32StyleConfig()
    {
        var c = Parse("""
            {"architectures":["LlamaForCausalLM"],"hidden_size":2048,"intermediate_size":8192,"num_hidden_layers":16,
             "num_attention_heads":32,"num_key_value_heads":8,"head_dim":64,"rms_norm_eps":1e-05,"rope_theta":500000.0,
             "rope_scaling":{"factor":32.0,"high_freq_factor":4.0,"low_freq_factor":1.0,"original_max_position_embeddings":8192,"rope_type":"llama3"},
             "max_position_embeddings":131072,"tie_word_embeddings":true,"vocab_size":128256,"bos_token_id":128000,
             "eos_token_id":[128001,128008,128009]}
            """);
        Assert.That(c.NumKvHeads, Is.EqualTo(8));
        Assert.That(c.HeadSize, Is.EqualTo(64));
        Assert.That(c.RopeTheta, Is.EqualTo(500000.0));
        Assert.That(c.RopeScaling, Is.EqualTo(new RopeScaling("llama3", 32, 1, 4, 8192)));
        Assert.That(c.TiedEmbeddings, Is.True);
        Assert.That(c.EosTokenIds, Is.EqualTo(new[] { 128001, 128008, 128009 }));
        Assert.That(c.BosTokenId, Is.EqualTo(128000));
        Assert.That(c.RmsNormEps, Is.EqualTo(1e-5));
    }

    [Test]
    public void DefaultsForALlama2StyleConfig()
    {
        var c = Parse("""
            {"architectures":["LlamaForCausalLM"],"hidden_size":4096,"intermediate_size":11008,"num_hidden_layers":32,
             "num_attention_heads":32,"vocab_size":32000,"bos_token_id":1,"eos_token_id":2,"rms_norm_eps":1e-06}
            """);
        Assert.That(c.NumKvHeads, Is.EqualTo(32));
        Assert.That(c.HeadSize, Is.EqualTo(128));
        Assert.That(c.RopeTheta, Is.EqualTo(10000));
        Assert.That(c.RopeScaling, Is.Null);
        Assert.That(c.TiedEmbeddings, Is.False);
        Assert.That(c.EosTokenIds, Is.EqualTo(new[] { 2 }));
    }

    [Test]
    public void UnsupportedArchitectureListsTheSupportedOnes()
    {
        var e = Assert.Throws<NotSupportedException>(() => Parse("""{"architectures":["GPT2LMHeadModel"],"hidden_size":8}"""));
        Assert.That(e!.Message, Does.Contain("GPT2LMHeadModel").And.Contain("LlamaForCausalLM"));
    }

    [Test]
    public void UnsupportedRopeScalingAndMissingFieldsAreNamed()
    {
        const string Base = "\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":2,\"num_attention_heads\":4,\"vocab_size\":100";
        var rope = Assert.Throws<NotSupportedException>(() => Parse("{" + Base + ""","rope_scaling":{"type":"yarn","factor":4}}"""));
        Assert.That(rope!.Message, Does.Contain("yarn").And.Contain("llama3"));
        var missing = Assert.Throws<InvalidDataException>(() => Parse("""{"architectures":["LlamaForCausalLM"],"hidden_size":64}"""));
        Assert.That(missing!.Message, Does.Contain("num_attention_heads").And.Contain("missing"));
        var heads = Assert.Throws<InvalidDataException>(() => Parse("{" + Base + ""","num_key_value_heads":3}"""));
        Assert.That(heads!.Message, Does.Contain("num_key_value_heads"));
    }

    [Test]
    public void SaveThenLoadRoundTrips()
    {
        var c = new LlamaConfig
        {
            HiddenSize = 48, IntermediateSize = 96, NumLayers = 3, NumHeads = 6, NumKvHeads = 2, HeadSize = 8, VocabSize = 77,
            MaxPositions = 64, RmsNormEps = 1e-5, RopeTheta = 500000, RopeScaling = new RopeScaling("llama3", 8, 1, 4, 32),
            TiedEmbeddings = true, BosTokenId = 1, EosTokenIds = [2, 3], PadTokenId = 0,
        };
        using var dir = new TempFolder();
        c.Save(dir.File("config.json"));
        var back = LlamaConfig.Load(dir.Path);
        Assert.That(back with { EosTokenIds = c.EosTokenIds }, Is.EqualTo(c));
        Assert.That(back.EosTokenIds, Is.EqualTo(c.EosTokenIds));
    }

    [Test]
    public void Llama3ScalingKeepsHighAndDividesLowFrequencies()
    {
        var plain = RotaryFrequencies.Inverse(64, 500000, null);
        var scaled = RotaryFrequencies.Inverse(64, 500000, new RopeScaling("llama3", 32, 1, 4, 8192));
        Assert.That(scaled[0], Is.EqualTo(plain[0])); // wavelength 2*pi < 8192/4: unscaled
        Assert.That(scaled[^1], Is.EqualTo(plain[^1] / 32).Within(1e-15)); // longest wavelength: divided by factor
        for (int i = 0; i < plain.Length; i++)
            Assert.That(scaled[i], Is.InRange(plain[i] / 32 * (1 - 1e-12), plain[i] * (1 + 1e-12)));
    }
}
