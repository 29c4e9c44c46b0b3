using System.Text.Json;

namespace Rest.Onnx.Export.Safetensors;

/// <summary>A tensor to write: its data is produced only when its turn comes, so large files stream.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="Data">Produces the values (length = product of <paramref name="Shape"/>) when the writer reaches this tensor.</param>
public sealed record SafetensorsEntry(string Name, long[] Shape, Func<float[]> Data);

/// <summary>Writes <c>.safetensors</c> files (header first, then each tensor's data in order).</summary>
public static class SafetensorsWriter
{
    /// <summary>Writes the tensors to <paramref name="path"/>, converting to <paramref name="dtype"/>.</summary>
    /// <exception cref="ArgumentException">Duplicate names, or a tensor's data length differs from its shape.</exception>
    public static void Write(string path, IReadOnlyList<SafetensorsEntry> tensors, SafetensorsDType dtype = SafetensorsDType.F32,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        int size = SafetensorsDTypes.Size(dtype);
        var header = new Dictionary<string, object>(StringComparer.Ordinal);
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var t in tensors)
        {
            long count = 1;
            foreach (var d in t.Shape) count *= d;
            long bytes = count * size;
            if (!header.TryAdd(t.Name, new { dtype = SafetensorsDTypes.Name(dtype), shape = t.Shape, data_offsets = new[] { offset, offset + bytes } }))
                throw new ArgumentException($"Duplicate tensor name '{t.Name}'.", nameof(tensors));
            offset += bytes;
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        int padded = (json.Length + 7) / 8 * 8; // data section starts 8-byte aligned
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> lengthBytes = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(lengthBytes, padded);
        stream.Write(lengthBytes);
        stream.Write(json);
        for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
        var buffer = new byte[1 << 20];
        foreach (var t in tensors)
        {
            var data = t.Data();
            long count = 1;
            foreach (var d in t.Shape) count *= d;
            if (data.Length != count)
                throw new ArgumentException($"Tensor '{t.Name}' {SafetensorsTensorInfo.FormatShape(t.Shape)} needs {count} values, got {data.Length}.", nameof(tensors));
            WriteValues(stream, data, dtype, buffer);
        }
    }

    internal static void WriteValues(Stream stream, ReadOnlySpan<float> data, SafetensorsDType dtype, byte[] buffer)
    {
        int size = SafetensorsDTypes.Size(dtype);
        int perChunk = buffer.Length / size;
        for (int start = 0; start < data.Length; start += perChunk)
        {
            var chunk = data.Slice(start, Math.Min(perChunk, data.Length - start));
            var bytes = buffer.AsSpan(0, chunk.Length * size);
            switch (dtype)
            {
                case SafetensorsDType.F32:
                    System.Runtime.InteropServices.MemoryMarshal.AsBytes(chunk).CopyTo(bytes);
                    break;
                case SafetensorsDType.F16:
                {
                    var h = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(bytes);
                    for (int i = 0; i < chunk.Length; i++) h[i] = (Half)chunk[i];
                    break;
                }
                case SafetensorsDType.BF16:
                {
                    var h = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(bytes);
                    for (int i = 0; i < chunk.Length; i++) h[i] = ToBFloat16(chunk[i]);
                    break;
                }
            }
            stream.Write(bytes);
        }
    }

    /// <summary>Round-to-nearest-even float to bfloat16 bits.</summary>
    internal static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
