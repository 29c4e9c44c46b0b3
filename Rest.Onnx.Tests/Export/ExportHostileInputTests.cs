using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Rest.Onnx.Export;
using Rest.Onnx.Export.Llama;
using Rest.Onnx.Export.Safetensors;
using Rest.Onnx.Export.Tiny;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Tests.Export;

/// <summary>The exporter rejects malformed checkpoints and configs with a message naming the file and field.</summary>
public class ExportHostileInputTests
{
    private static readonly TinyLlamaOptions Small = new TinyLlamaOptions() with { Layers = 1, HiddenSize = 16, Heads = 2, KvHeads = 1, IntermediateSize = 32, VocabSize = 64, MaxPositions = 32 };

    /// <summary>A safetensors file from a literal header and data bytes.</summary>
    private static string Raw(TempFolder dir, byte[] header, int dataBytes, string name = "w.safetensors")
    {
        var path = dir.File(name);
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, header.Length);
        header.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Test]
    public void InvalidUtf8InAHeaderNamesTheFileAndByte()
    {
        using var dir = new TempFolder();
        var header = Encoding.UTF8.GetBytes("{\"a\u00e9\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}");
        header[3] = 0xFF; // breaks the two-byte sequence of é
        var path = Raw(dir, header, 4);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("not valid UTF-8 (first bad byte at header offset 3)"));
    }

    [Test]
    public void ADuplicateKeyIsNamed()
    {
        using var dir = new TempFolder();
        var path = Raw(dir, Encoding.UTF8.GetBytes(
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}"), 8);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.That(e!.Message, Does.Contain(path).And.Contain("lists tensor 'w' twice"));
    }

    [Test]
    public void OverlappingTensorsAreRejected()
    {
        using var dir = new TempFolder();
        var path = Raw(dir, Encoding.UTF8.GetBytes(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}"), 12);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.That(e!.Message, Does.Contain("tensors 'a' [0, 8) and 'b' [4, 12) overlap"));
    }

    [Test]
    public void AShapeWhoseProductWrapsIsRejected()
    {
        using var dir = new TempFolder();
        var path = Raw(dir, Encoding.UTF8.GetBytes(
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}"), 0);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path));
        Assert.That(e!.Message, Does.Contain("tensor 'a'").And.Contain("more elements than a file can hold"));
    }

    [Test]
    public void ByteFlipsAndTruncationsOfAHeaderGiveAClearErrorOrAValidFile()
    {
        using var dir = new TempFolder();
        var good = dir.File("good.safetensors");
        SafetensorsWriter.Write(good, [new("a", [3, 4], () => new float[12]), new("b", [5], () => new float[5]), new("c", [2, 2], () => new float[4])]);
        var original = File.ReadAllBytes(good);
        var headerEnd = 8 + (int)BinaryPrimitives.ReadInt64LittleEndian(original);
        var random = new Random(61);
        var path = dir.File("fuzz.safetensors");
        var (rejected, opened) = (0, 0);
        for (var f = 0; f < 300; f++)
        {
            var copy = (byte[])original.Clone();
            if (f % 5 == 4) copy = copy[..random.Next(copy.Length)];
            else copy[random.Next(headerEnd)] ^= (byte)random.Next(1, 256);
            File.WriteAllBytes(path, copy);
            try
            {
                using var file = SafetensorsFile.Open(path);
                foreach (var name in file.Tensors.Keys)
                {
                    try { file.ReadFloat32(name); }
                    catch (InvalidDataException e) { Assert.That(e.Message, Does.Contain(name)); }
                }
                opened++;
            }
            catch (InvalidDataException e)
            {
                Assert.That(e.Message, Does.Contain(path), $"flip {f}");
                rejected++;
            }
        }
        Assert.That(rejected, Is.GreaterThan(100));
    }

    private static string Checkpoint(TempFolder dir, Action<JsonObject>? editConfig = null, TinyLlamaOptions? options = null)
    {
        var hf = dir.File("hf");
        TinyLlama.Write(hf, options ?? Small);
        if (editConfig is not null)
        {
            var configPath = Path.Combine(hf, "config.json");
            var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
            editConfig(config);
            File.WriteAllText(configPath, config.ToJsonString());
        }
        return hf;
    }

    [TestCase("rope_theta", -1.0, "rope_theta must be a positive finite number, got -1")]
    [TestCase("rope_theta", 0.0, "rope_theta must be a positive finite number, got 0")]
    [TestCase("rms_norm_eps", 0.0, "rms_norm_eps must be in (0, 1), got 0")]
    [TestCase("max_position_embeddings", 2147483647.0, "max_position_embeddings 2147483647 exceeds the")]
    [TestCase("vocab_size", 3e9, "field \"vocab_size\" is 3000000000, outside the 32-bit integer range")]
    [TestCase("vocab_size", 2e9, "vocab_size x hidden_size (embeddings) is 2000000000 x 16")]
    [TestCase("bos_token_id", 64.0, "bos_token_id 64 is outside the vocabulary [0, 64)")]
    [TestCase("eos_token_id", -5.0, "eos_token_id -5 is outside the vocabulary [0, 64)")]
    [TestCase("pad_token_id", 99999.0, "pad_token_id 99999 is outside the vocabulary [0, 64)")]
    [TestCase("num_key_value_heads", 4.0, "num_attention_heads 2 is not a multiple of num_key_value_heads 4")]
    public void ConfigNumbersAreRangeCheckedWithTheFieldNamed(string field, double value, string expected)
    {
        using var dir = new TempFolder();
        var hf = Checkpoint(dir, c => c[field] = value == Math.Floor(value) ? JsonValue.Create((long)value) : JsonValue.Create(value));
        var output = dir.File("out");
        var e = Assert.Catch(() => LlamaExporter.Export(hf, output));
        Assert.That(e, Is.TypeOf<InvalidDataException>());
        Assert.That(e!.Message, Does.Contain(expected));
        Assert.That(Directory.Exists(output), Is.False, "no output folder was left");
    }

    [Test]
    public void RopeScalingNumbersAreChecked()
    {
        using var dir = new TempFolder();
        var hf = Checkpoint(dir, c => c["rope_scaling"] = new JsonObject { ["rope_type"] = "llama3", ["factor"] = 8, ["low_freq_factor"] = 4, ["high_freq_factor"] = 4, ["original_max_position_embeddings"] = 16 });
        var e = Assert.Throws<InvalidDataException>(() => LlamaExporter.Export(hf, dir.File("out")));
        Assert.That(e!.Message, Does.Contain("0 < low_freq_factor < high_freq_factor"));
    }

    [Test]
    public void PadTokenIdIsValidatedAndRecorded()
    {
        using var dir = new TempFolder();
        var hf = Checkpoint(dir);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => LlamaExporter.Export(hf, dir.File("bad"), new ExportOptions { PadTokenId = 99999 }));
        Assert.That(e!.Message, Does.Contain("PadTokenId 99999 is outside the vocabulary [0, 64)"));
        Assert.That(Directory.Exists(dir.File("bad")), Is.False);
        var result = LlamaExporter.Export(hf, dir.File("good"), new ExportOptions { PadTokenId = 3 });
        Assert.That(result.Manifest.PadTokenId, Is.EqualTo(3));
        Assert.That(ModelManifest.Load(dir.File("good")).PadTokenId, Is.EqualTo(3));
    }

    [Test]
    public void AFailedExportRemovesOnlyAFolderItCreated()
    {
        using var dir = new TempFolder();
        var hf = Checkpoint(dir);
        // Drop a tensor the graph needs: the export fails halfway, after creating its folder.
        var weights = Path.Combine(hf, "model.safetensors");
        using (var file = SafetensorsFile.Open(weights))
        {
            var kept = file.Tensors.Keys.Where(k => k != LlamaTensorNames.FinalNorm).ToList();
            var data = kept.ToDictionary(k => k, file.ReadFloat32);
            var shapes = kept.ToDictionary(k => k, k => file.Get(k).Shape);
            file.Dispose();
            SafetensorsWriter.Write(weights, [.. kept.Select(k => new SafetensorsEntry(k, shapes[k], () => data[k]))]);
        }
        var fresh = dir.File("fresh");
        Assert.Throws<KeyNotFoundException>(() => LlamaExporter.Export(hf, fresh));
        Assert.That(Directory.Exists(fresh), Is.False, "the folder the export created is gone");

        var existing = dir.File("existing");
        Directory.CreateDirectory(existing);
        File.WriteAllText(Path.Combine(existing, "keep.txt"), "mine");
        Assert.Throws<KeyNotFoundException>(() => LlamaExporter.Export(hf, existing));
        Assert.That(File.ReadAllText(Path.Combine(existing, "keep.txt")), Is.EqualTo("mine"), "a folder it did not create stays");
        Assert.That(File.Exists(Path.Combine(existing, LlamaExporter.DataFileName)), Is.False);
    }

    [Test]
    public void RotaryTablesRefuseSizesBeyondTheirLimit()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => RotaryFrequencies.Tables(64, 10000, null, int.MaxValue));
        Assert.That(e!.Message, Does.Contain("max positions 2147483647 is out of range"));
    }

    [Test]
    public void TinyModelSizesAreBounded()
    {
        var vocab = Assert.Throws<InvalidDataException>(() => TinyLlama.Config(new TinyLlamaOptions() with { VocabSize = 2_000_000_000 }));
        Assert.That(vocab!.Message, Does.Contain("vocab_size x hidden_size"));
        var wide = Assert.Throws<InvalidDataException>(() => TinyLlama.Config(new TinyLlamaOptions() with { HiddenSize = 100_000, IntermediateSize = 100_000, Heads = 4, KvHeads = 2 }));
        Assert.That(wide!.Message, Does.Contain("intermediate_size x hidden_size (MLP) is 100000 x 100000"));
        var big = Assert.Throws<InvalidDataException>(() => TinyLlama.Config(new TinyLlamaOptions() with { VocabSize = 4_000_000, HiddenSize = 128 }));
        Assert.That(big!.Message, Does.Contain("exceed the tiny maker's limit"));
    }
}
