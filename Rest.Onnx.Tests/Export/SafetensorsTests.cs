using System.Text;
using Rest.Onnx.Export.Safetensors;

namespace Rest.Onnx.Tests.Export;

public class SafetensorsTests
{
    private static float[] Values(int n, int seed)
    {
        var r = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(r.NextDouble() * 8 - 4);
        return v;
    }

    [TestCase(SafetensorsDType.F32, 0.0)]
    [TestCase(SafetensorsDType.F16, 4e-3)]
    [TestCase(SafetensorsDType.BF16, 3e-2)]
    public void RoundTripsEachDType(SafetensorsDType dtype, double tolerance)
    {
        using var dir = new TempFolder();
        var a = Values(12, 1);
        var b = Values(5, 2);
        SafetensorsWriter.Write(dir.File("w.safetensors"),
            [new("a", [3, 4], () => a), new("b", [5], () => b)], dtype);
        using var file = SafetensorsFile.Open(dir.File("w.safetensors"));
        Assert.That(file.Tensors.Keys, Is.EquivalentTo(new[] { "a", "b" }));
        Assert.That(file.Get("a").Shape, Is.EqualTo(new long[] { 3, 4 }));
        Assert.That(file.Get("a").DType, Is.EqualTo(SafetensorsDTypes.Name(dtype)));
        var readA = file.ReadFloat32("a");
        var readB = file.ReadFloat32("b");
        for (int i = 0; i < a.Length; i++) Assert.That(readA[i], Is.EqualTo(a[i]).Within(tolerance * Math.Abs(a[i]) + 1e-9));
        for (int i = 0; i < b.Length; i++) Assert.That(readB[i], Is.EqualTo(b[i]).Within(tolerance * Math.Abs(b[i]) + 1e-9));
    }

    [Test]
    public void ReadsAHandWrittenFileWithMetadata()
    {
        // Written byte by byte here, independent of the writer: header JSON + little-endian F32 data.
        using var dir = new TempFolder();
        var json = "{\"__metadata__\":{\"format\":\"pt\"},\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        var header = Encoding.UTF8.GetBytes(json);
        using (var s = File.Create(dir.File("h.safetensors")))
        {
            s.Write(BitConverter.GetBytes((long)header.Length));
            s.Write(header);
            s.Write(BitConverter.GetBytes(1.5f));
            s.Write(BitConverter.GetBytes(-2.25f));
        }
        using var file = SafetensorsFile.Open(dir.File("h.safetensors"));
        Assert.That(file.ReadFloat32("x"), Is.EqualTo(new[] { 1.5f, -2.25f }));
        Assert.That(file.Metadata["format"], Is.EqualTo("pt"));
    }

    [Test]
    public void TruncatedFileIsRejectedWithItsName()
    {
        using var dir = new TempFolder();
        var path = dir.File("t.safetensors");
        SafetensorsWriter.Write(path, [new("w", [64], () => Values(64, 3))]);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.That(e!.Message, Does.Contain("truncated").And.Contain("'w'").And.Contain(path));

        File.WriteAllBytes(path, bytes[..5]);
        e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.That(e!.Message, Does.Contain("truncated"));
    }

    [Test]
    public void BadHeaderIsRejected()
    {
        using var dir = new TempFolder();
        var path = dir.File("b.safetensors");
        var header = Encoding.UTF8.GetBytes("{not json");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((long)header.Length), .. header]);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.That(e!.Message, Does.Contain("JSON"));

        File.WriteAllBytes(path, [.. BitConverter.GetBytes(1L << 40), 0, 0]);
        Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path).Dispose());
    }

    [Test]
    public void OffsetsThatDisagreeWithShapeAreRejected()
    {
        using var dir = new TempFolder();
        var path = dir.File("s.safetensors");
        var header = Encoding.UTF8.GetBytes("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((long)header.Length), .. header, .. new byte[8]]);
        var e = Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.That(e!.Message, Does.Contain("'x'").And.Contain("12 bytes"));
    }

    [Test]
    public void NonFloatDTypeIsRejectedOnRead()
    {
        using var dir = new TempFolder();
        var path = dir.File("i.safetensors");
        var header = Encoding.UTF8.GetBytes("{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((long)header.Length), .. header, .. new byte[8]]);
        using var file = SafetensorsFile.Open(path);
        var e = Assert.Throws<InvalidDataException>(() => file.ReadFloat32("ids"));
        Assert.That(e!.Message, Does.Contain("I64").And.Contain("ids"));
        Assert.Throws<KeyNotFoundException>(() => file.ReadFloat32("nope"));
    }

    [Test]
    public void ShardedCheckpointReadsThroughTheIndex()
    {
        using var dir = new TempFolder();
        var a = Values(6, 4);
        var b = Values(4, 5);
        SafetensorsWriter.Write(dir.File("model-00001-of-00002.safetensors"), [new("a", [2, 3], () => a)]);
        SafetensorsWriter.Write(dir.File("model-00002-of-00002.safetensors"), [new("b", [4], () => b)], SafetensorsDType.BF16);
        File.WriteAllText(dir.File(SafetensorsCheckpoint.IndexFileName),
            "{\"metadata\":{},\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00002-of-00002.safetensors\"}}");
        using var ckpt = SafetensorsCheckpoint.Open(dir.Path);
        Assert.That(ckpt.TensorNames, Is.EquivalentTo(new[] { "a", "b" }));
        Assert.That(ckpt.ReadFloat32("a", 2, 3), Is.EqualTo(a));
        Assert.That(ckpt.ReadFloat32("b", 4), Is.EqualTo(b).Within(0.05));
        var wrongShape = Assert.Throws<InvalidDataException>(() => ckpt.ReadFloat32("a", 3, 2));
        Assert.That(wrongShape!.Message, Does.Contain("'a'").And.Contain("[2, 3]").And.Contain("[3, 2]"));
        var missing = Assert.Throws<KeyNotFoundException>(() => ckpt.Get("c"));
        Assert.That(missing!.Message, Does.Contain("'c'"));
    }

    [Test]
    public void ShardListedInIndexButAbsentIsReported()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File(SafetensorsCheckpoint.IndexFileName), "{\"weight_map\":{\"a\":\"gone.safetensors\"}}");
        var e = Assert.Throws<FileNotFoundException>(() => SafetensorsCheckpoint.Open(dir.Path).Dispose());
        Assert.That(e!.Message, Does.Contain("gone.safetensors"));
        using var empty = new TempFolder();
        Assert.Throws<FileNotFoundException>(() => SafetensorsCheckpoint.Open(empty.Path).Dispose());
    }
}
