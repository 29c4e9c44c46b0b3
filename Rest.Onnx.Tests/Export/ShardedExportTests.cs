using Rest.Onnx.Export;
using Rest.Onnx.Export.Safetensors;
using Rest.Onnx.Export.Tiny;

namespace Rest.Onnx.Tests.Export;

public class ShardedExportTests
{
    [Test]
    public void ShardedCheckpointExportsTheSameWeightsAsASingleFile()
    {
        using var dir = new TempFolder();
        var options = new TinyLlamaOptions { Layers = 2, HiddenSize = 32, Heads = 4, KvHeads = 2, IntermediateSize = 48, VocabSize = 60 };
        TinyLlama.Write(dir.File("single"), options);
        TinyLlama.Write(dir.File("sharded"), options);

        // Split the same tensors into two shards plus an index: the export must be byte-identical.
        var shardPath = dir.File("sharded/" + SafetensorsCheckpoint.SingleFileName);
        var entries = new List<SafetensorsEntry>();
        using (var file = SafetensorsFile.Open(shardPath))
            foreach (var t in file.Tensors.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                var data = file.ReadFloat32(t.Name);
                entries.Add(new(t.Name, t.Shape, () => data));
            }
        File.Delete(shardPath);
        int half = entries.Count / 2;
        SafetensorsWriter.Write(dir.File("sharded/model-00001-of-00002.safetensors"), entries[..half]);
        SafetensorsWriter.Write(dir.File("sharded/model-00002-of-00002.safetensors"), entries[half..]);
        var map = string.Join(",", entries.Select((e, i) => $"\"{e.Name}\":\"model-0000{(i < half ? 1 : 2)}-of-00002.safetensors\""));
        File.WriteAllText(dir.File("sharded/" + SafetensorsCheckpoint.IndexFileName), "{\"metadata\":{},\"weight_map\":{" + map + "}}");

        LlamaExporter.Export(dir.File("single"), dir.File("a"));
        LlamaExporter.Export(dir.File("sharded"), dir.File("b"));
        Assert.That(File.ReadAllBytes(dir.File("b/model.onnx.data")), Is.EqualTo(File.ReadAllBytes(dir.File("a/model.onnx.data"))));
        Assert.That(File.ReadAllBytes(dir.File("b/model.onnx")), Is.EqualTo(File.ReadAllBytes(dir.File("a/model.onnx"))));
    }

    [Test]
    public void EmbeddedWeightsWriteNoDataFileAndRunTheSame()
    {
        using var dir = new TempFolder();
        TinyLlama.Write(dir.File("hf"), new TinyLlamaOptions { Layers = 1 });
        LlamaExporter.Export(dir.File("hf"), dir.File("ext"));
        LlamaExporter.Export(dir.File("hf"), dir.File("emb"), new ExportOptions { EmbedWeights = true });
        Assert.That(File.Exists(dir.File("emb/model.onnx.data")), Is.False);
        using var ext = new Reference.OnnxDecoder(dir.File("ext"));
        using var emb = new Reference.OnnxDecoder(dir.File("emb"));
        var a = ext.Step([3, 4, 5], [0, 1, 2], Reference.Logits.Causal(0, 3));
        var b = emb.Step([3, 4, 5], [0, 1, 2], Reference.Logits.Causal(0, 3));
        Assert.That(b[2], Is.EqualTo(a[2]));
    }
}

public class ExportIntoSourceFolderTests
{
    [Test]
    public void ExportingNextToTheCheckpointKeepsTheTokenizer()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("tokenizer.model"), [4, 2]);
        TinyLlama.Write(dir.File("hf"), new TinyLlamaOptions { Layers = 1, TokenizerPath = dir.File("tokenizer.model") });
        var result = LlamaExporter.Export(dir.File("hf"), dir.File("hf"));
        Assert.That(File.ReadAllBytes(dir.File("hf/tokenizer.model")), Is.EqualTo(new byte[] { 4, 2 }));
        Assert.That(result.Manifest.TokenizerFingerprint, Is.EqualTo(Rest.Onnx.Tokenization.TokenizerFingerprint.OfBytes([4, 2])));
    }
}
