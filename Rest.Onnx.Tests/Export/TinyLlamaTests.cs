using Rest.Onnx.Export.Llama;
using Rest.Onnx.Export.Safetensors;
using Rest.Onnx.Export.Tiny;

namespace Rest.Onnx.Tests.Export;

public class TinyLlamaTests
{
    [Test]
    public void SameOptionsWriteIdenticalFilesAndSeedChangesThem()
    {
        using var a = new TempFolder();
        using var b = new TempFolder();
        using var c = new TempFolder();
        var options = new TinyLlamaOptions { Layers = 1, HiddenSize = 32, Heads = 4, KvHeads = 2, IntermediateSize = 48, VocabSize = 50 };
        TinyLlama.Write(a.Path, options);
        TinyLlama.Write(b.Path, options);
        TinyLlama.Write(c.Path, options with { Seed = 2 });
        var bytesA = File.ReadAllBytes(a.File("model.safetensors"));
        Assert.That(File.ReadAllBytes(b.File("model.safetensors")), Is.EqualTo(bytesA));
        Assert.That(File.ReadAllBytes(c.File("model.safetensors")), Is.Not.EqualTo(bytesA));
    }

    [Test]
    public void WritesEveryTensorTheConfigNeedsWithTheRightShape()
    {
        using var dir = new TempFolder();
        var tok = dir.File("src-tokenizer.model");
        File.WriteAllBytes(tok, [1, 2, 3]);
        var options = new TinyLlamaOptions
        {
            Layers = 3, HiddenSize = 48, Heads = 6, KvHeads = 2, HeadSize = 12, IntermediateSize = 80, VocabSize = 99,
            TiedEmbeddings = true, TokenizerPath = tok, DType = SafetensorsDType.BF16,
        };
        var model = Path.Combine(dir.Path, "m");
        var written = TinyLlama.Write(model, options);
        var config = LlamaConfig.Load(model);
        Assert.That(config, Is.EqualTo(written with { EosTokenIds = config.EosTokenIds }));
        Assert.That(config.HeadSize, Is.EqualTo(12));
        Assert.That(File.Exists(Path.Combine(model, "src-tokenizer.model")));
        using var ckpt = SafetensorsCheckpoint.Open(model);
        Assert.That(ckpt.Contains(LlamaTensorNames.LmHead), Is.False, "tied embeddings write no lm_head");
        Assert.That(ckpt.Get(LlamaTensorNames.Embedding).DType, Is.EqualTo("BF16"));
        for (int l = 0; l < 3; l++)
        {
            Assert.That(ckpt.Get(LlamaTensorNames.QProj(l)).Shape, Is.EqualTo(new long[] { 72, 48 }));
            Assert.That(ckpt.Get(LlamaTensorNames.KProj(l)).Shape, Is.EqualTo(new long[] { 24, 48 }));
            Assert.That(ckpt.Get(LlamaTensorNames.OProj(l)).Shape, Is.EqualTo(new long[] { 48, 72 }));
            Assert.That(ckpt.Get(LlamaTensorNames.DownProj(l)).Shape, Is.EqualTo(new long[] { 48, 80 }));
        }
        Assert.That(ckpt.TensorNames.Count(), Is.EqualTo(2 + 3 * 9));
    }

    [Test]
    public void InconsistentOptionsAreRejected()
    {
        using var dir = new TempFolder();
        Assert.Throws<InvalidDataException>(() => TinyLlama.Write(dir.Path, new TinyLlamaOptions { Heads = 4, KvHeads = 3 }));
        Assert.Throws<FileNotFoundException>(() => TinyLlama.Write(dir.Path, new TinyLlamaOptions { TokenizerPath = dir.File("none") }));
    }
}
