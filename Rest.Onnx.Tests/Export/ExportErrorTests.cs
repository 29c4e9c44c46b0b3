using System.Text;
using Rest.Onnx.Export;
using Rest.Onnx.Export.Llama;
using Rest.Onnx.Export.Safetensors;
using Rest.Onnx.Export.Tiny;

namespace Rest.Onnx.Tests.Export;

/// <summary>Bad checkpoints fail the export with a message naming the problem, before any ONNX file is written.</summary>
public class ExportErrorTests
{
    private static readonly TinyLlamaOptions Small = new() { Layers = 1, HiddenSize = 32, Heads = 2, KvHeads = 1, IntermediateSize = 48, VocabSize = 40 };

    /// <summary>Rewrites model.safetensors with every tensor except <paramref name="drop"/>, and <paramref name="extra"/> added.</summary>
    private static void Rewrite(string folder, string? drop, params SafetensorsEntry[] extra)
    {
        var path = Path.Combine(folder, SafetensorsCheckpoint.SingleFileName);
        var entries = new List<SafetensorsEntry>();
        using (var file = SafetensorsFile.Open(path))
            foreach (var t in file.Tensors.Values.Where(t => t.Name != drop))
            {
                var data = file.ReadFloat32(t.Name);
                entries.Add(new(t.Name, t.Shape, () => data));
            }
        entries.AddRange(extra);
        SafetensorsWriter.Write(path, entries);
    }

    [Test]
    public void UnsupportedArchitectureListsSupported()
    {
        using var dir = new TempFolder();
        TinyLlama.Write(dir.File("hf"), Small);
        var config = File.ReadAllText(dir.File("hf/config.json")).Replace("LlamaForCausalLM", "MixtralForCausalLM", StringComparison.Ordinal);
        File.WriteAllText(dir.File("hf/config.json"), config);
        var e = Assert.Throws<NotSupportedException>(() => LlamaExporter.Export(dir.File("hf"), dir.File("out")));
        Assert.That(e!.Message, Does.Contain("MixtralForCausalLM").And.Contain("supported architectures: LlamaForCausalLM"));
    }

    [Test]
    public void MissingTensorIsNamed()
    {
        using var dir = new TempFolder();
        TinyLlama.Write(dir.File("hf"), Small);
        Rewrite(dir.File("hf"), LlamaTensorNames.UpProj(0));
        var e = Assert.Throws<KeyNotFoundException>(() => LlamaExporter.Export(dir.File("hf"), dir.File("out")));
        Assert.That(e!.Message, Does.Contain("model.layers.0.mlp.up_proj.weight"));
        Assert.That(File.Exists(dir.File("out/model.onnx.data")), Is.False, "no half-written weights are left behind");
        Assert.That(File.Exists(dir.File("out/model.onnx")), Is.False);
    }

    [Test]
    public void MisshapenTensorIsNamedWithBothShapes()
    {
        using var dir = new TempFolder();
        TinyLlama.Write(dir.File("hf"), Small);
        Rewrite(dir.File("hf"), LlamaTensorNames.KProj(0), new SafetensorsEntry(LlamaTensorNames.KProj(0), [32, 32], () => new float[32 * 32]));
        var e = Assert.Throws<InvalidDataException>(() => LlamaExporter.Export(dir.File("hf"), dir.File("out")));
        Assert.That(e!.Message, Does.Contain("k_proj").And.Contain("[32, 32]").And.Contain("[16, 32]"));
    }

    [Test]
    public void WrongDTypeIsNamed()
    {
        using var dir = new TempFolder();
        TinyLlama.Write(dir.File("hf"), Small);
        // Hand-written file whose final norm is I32: same byte size as F32, so only the dtype is wrong.
        var path = dir.File("hf/model.safetensors");
        var bytes = File.ReadAllBytes(path);
        long headerLength = BitConverter.ToInt64(bytes, 0);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        var key = "\"model.norm.weight\":{\"dtype\":\"F32\"";
        Assert.That(header, Does.Contain(key));
        var patched = Encoding.UTF8.GetBytes(header.Replace(key, "\"model.norm.weight\":{\"dtype\":\"I32\"", StringComparison.Ordinal));
        Assert.That(patched, Has.Length.EqualTo(headerLength));
        patched.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => LlamaExporter.Export(dir.File("hf"), dir.File("out")));
        Assert.That(e!.Message, Does.Contain("model.norm.weight").And.Contain("I32"));
    }

    [Test]
    public void TruncatedSafetensorsIsReported()
    {
        using var dir = new TempFolder();
        TinyLlama.Write(dir.File("hf"), Small);
        var path = dir.File("hf/model.safetensors");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => LlamaExporter.Export(dir.File("hf"), dir.File("out")));
        Assert.That(e!.Message, Does.Contain("truncated").And.Contain("model.safetensors"));
        Assert.That(File.Exists(dir.File("out/model.onnx")), Is.False);
    }
}
