using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Rest.Onnx.Export.Safetensors;

/// <summary>
/// One memory-mapped <c>.safetensors</c> file: an 8-byte little-endian header length, a JSON header
/// (<c>{"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {...}}</c>) and the raw little-endian data.
/// Tensors are converted to float one at a time, so converting a large checkpoint never holds a second copy
/// of all weights. Untrusted files are validated: every offset must lie inside the file.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    private const long MaxHeaderBytes = 100L * 1024 * 1024;
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafetensorsTensorInfo> _tensors;
    private bool _disposed;

    private SafetensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePtr,
        long dataStart, Dictionary<string, SafetensorsTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        _map = map;
        _view = view;
        _base = basePtr;
        _dataStart = dataStart;
        _tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>The file path.</summary>
    public string Path { get; }

    /// <summary>Tensors by name.</summary>
    public IReadOnlyDictionary<string, SafetensorsTensorInfo> Tensors => _tensors;

    /// <summary>The optional <c>__metadata__</c> string map.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens and validates a safetensors file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is truncated, or its header is not valid safetensors.</exception>
    public static SafetensorsFile Open(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"Safetensors file '{path}' does not exist.", path);
        long fileLength = info.Length;
        if (fileLength < 8)
            throw new InvalidDataException($"Safetensors file '{path}' is truncated: {fileLength} bytes, less than the 8-byte header length.");

        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        bool acquired = false;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            acquired = true;
            p += view.PointerOffset;

            long headerLength = *(long*)p;
            if (!BitConverter.IsLittleEndian) headerLength = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(headerLength);
            if (headerLength <= 0 || headerLength > MaxHeaderBytes)
                throw new InvalidDataException($"Safetensors file '{path}' has an invalid header length {headerLength} (expected 1..{MaxHeaderBytes}).");
            if (8 + headerLength > fileLength)
                throw new InvalidDataException($"Safetensors file '{path}' is truncated: header needs {8 + headerLength} bytes, file has {fileLength}.");

            long dataStart = 8 + headerLength;
            var headerBytes = new ReadOnlySpan<byte>(p + 8, checked((int)headerLength));
            var (tensors, metadata) = ParseHeader(path, headerBytes, fileLength - dataStart);
            return new SafetensorsFile(path, map, view, p - view.PointerOffset, dataStart, tensors, metadata);
        }
        catch
        {
            if (acquired) view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    private static (Dictionary<string, SafetensorsTensorInfo>, IReadOnlyDictionary<string, string>) ParseHeader(
        string path, ReadOnlySpan<byte> header, long dataLength)
    {
        var tensors = new Dictionary<string, SafetensorsTensorInfo>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        // System.Text.Json fails on invalid UTF-8 only when a name is decoded, with an InvalidOperationException:
        // check up front so the error names the file and the byte.
        if (!System.Text.Unicode.Utf8.IsValid(header))
        {
            var chars = new char[header.Length];
            System.Text.Unicode.Utf8.ToUtf16(header, chars, out var good, out _, replaceInvalidSequences: false);
            throw new InvalidDataException($"Safetensors file '{path}' has a header that is not valid UTF-8 (first bad byte at header offset {good}).");
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header.ToArray());
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Safetensors file '{path}' has a header that is not valid JSON: {e.Message}", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"Safetensors file '{path}': header must be a JSON object.");
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    if (entry.Value.ValueKind == JsonValueKind.Object)
                        foreach (var m in entry.Value.EnumerateObject())
                            metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
                    continue;
                }
                if (tensors.ContainsKey(entry.Name))
                    throw new InvalidDataException($"Safetensors file '{path}' lists tensor '{entry.Name}' twice in its header.");
                tensors.Add(entry.Name, ParseTensor(path, entry.Name, entry.Value, dataLength));
            }
        }
        CheckNoOverlap(path, tensors.Values);
        return (tensors, metadata);
    }

    /// <summary>Two tensors sharing bytes would alias each other's weights: the format forbids it, so refuse it.</summary>
    private static void CheckNoOverlap(string path, IEnumerable<SafetensorsTensorInfo> tensors)
    {
        var sorted = tensors.Where(t => t.End > t.Begin).OrderBy(t => t.Begin).ThenBy(t => t.End).ToList();
        for (int i = 1; i < sorted.Count; i++)
            if (sorted[i].Begin < sorted[i - 1].End)
                throw new InvalidDataException(
                    $"Safetensors file '{path}': tensors '{sorted[i - 1].Name}' [{sorted[i - 1].Begin}, {sorted[i - 1].End}) and '{sorted[i].Name}' [{sorted[i].Begin}, {sorted[i].End}) overlap in the data section.");
    }

    private static SafetensorsTensorInfo ParseTensor(string path, string name, JsonElement e, long dataLength)
    {
        string Bad(string what) => $"Safetensors file '{path}', tensor '{name}': {what}.";
        if (e.ValueKind != JsonValueKind.Object) throw new InvalidDataException(Bad("entry is not an object"));
        if (!e.TryGetProperty("dtype", out var dtypeEl) || dtypeEl.ValueKind != JsonValueKind.String)
            throw new InvalidDataException(Bad("missing \"dtype\""));
        if (!e.TryGetProperty("shape", out var shapeEl) || shapeEl.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException(Bad("missing \"shape\""));
        if (!e.TryGetProperty("data_offsets", out var offEl) || offEl.ValueKind != JsonValueKind.Array || offEl.GetArrayLength() != 2)
            throw new InvalidDataException(Bad("missing \"data_offsets\" [begin, end]"));
        var shape = new long[shapeEl.GetArrayLength()];
        int i = 0;
        foreach (var d in shapeEl.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var v) || v < 0)
                throw new InvalidDataException(Bad($"shape entry {d.GetRawText()} is not a non-negative integer"));
            shape[i++] = v;
        }
        long begin = offEl[0].TryGetInt64(out var b) ? b : -1;
        long end = offEl[1].TryGetInt64(out var en) ? en : -1;
        if (begin < 0 || end < begin)
            throw new InvalidDataException(Bad($"invalid data_offsets [{offEl[0].GetRawText()}, {offEl[1].GetRawText()}]"));
        if (end > dataLength)
            throw new InvalidDataException(
                $"Safetensors file '{path}' is truncated: tensor '{name}' ends at data byte {end}, but the data section has only {dataLength} bytes.");
        var dtype = dtypeEl.GetString()!;
        var info = new SafetensorsTensorInfo(name, dtype, shape, begin, end, path);
        // Overflow-safe: a wrapped product could match a small byte span.
        long elements = 1;
        foreach (var d in shape)
            if (d != 0 && elements > long.MaxValue / d)
                throw new InvalidDataException(Bad($"shape {info.ShapeText} has more elements than a file can hold"));
            else elements *= d;
        if (SafetensorsDTypes.TryParse(dtype, out var known))
        {
            if (elements > long.MaxValue / SafetensorsDTypes.Size(known))
                throw new InvalidDataException(Bad($"shape {info.ShapeText} has more bytes than a file can hold"));
            long expected = elements * SafetensorsDTypes.Size(known);
            if (expected != end - begin)
                throw new InvalidDataException(Bad($"{dtype} {info.ShapeText} needs {expected} bytes, data_offsets span {end - begin}"));
        }
        return info;
    }

    /// <summary>The raw bytes of a tensor. The span is valid until this file is disposed.</summary>
    /// <exception cref="KeyNotFoundException">No tensor of that name.</exception>
    /// <exception cref="NotSupportedException">The tensor is 2 GiB or larger (read it with <see cref="ReadFloat32(string, Span{float})"/>).</exception>
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        var t = Get(name);
        long length = t.End - t.Begin;
        if (length > int.MaxValue) throw new NotSupportedException($"Tensor '{name}' in '{Path}' is {length} bytes; spans are limited to 2 GiB.");
        return new ReadOnlySpan<byte>(Pointer(t), (int)length);
    }

    /// <summary>Header entry of one tensor.</summary>
    /// <exception cref="KeyNotFoundException">No tensor of that name; the message names the file.</exception>
    public SafetensorsTensorInfo Get(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _tensors.TryGetValue(name, out var t) ? t
            : throw new KeyNotFoundException($"Tensor '{name}' is not in safetensors file '{Path}'.");
    }

    /// <summary>Converts a F32/F16/BF16 tensor to float into <paramref name="destination"/> (length = element count).</summary>
    /// <exception cref="KeyNotFoundException">No tensor of that name.</exception>
    /// <exception cref="InvalidDataException">The tensor's dtype is not F32, F16 or BF16.</exception>
    /// <exception cref="ArgumentException">The destination length differs from the element count.</exception>
    public void ReadFloat32(string name, Span<float> destination)
    {
        var t = Get(name);
        if (!SafetensorsDTypes.TryParse(t.DType, out var dtype))
            throw new InvalidDataException($"Tensor '{name}' in '{Path}' has dtype {t.DType}; expected F32, F16 or BF16.");
        if (destination.Length != t.ElementCount)
            throw new ArgumentException($"Destination has {destination.Length} elements, tensor '{name}' {t.ShapeText} has {t.ElementCount}.", nameof(destination));
        Convert(Pointer(t), dtype, destination);
    }

    /// <summary>Reads a F32/F16/BF16 tensor as a new float array.</summary>
    /// <exception cref="KeyNotFoundException">No tensor of that name.</exception>
    /// <exception cref="InvalidDataException">The tensor's dtype is not F32, F16 or BF16.</exception>
    public float[] ReadFloat32(string name)
    {
        var t = Get(name);
        var result = GC.AllocateUninitializedArray<float>(checked((int)t.ElementCount));
        ReadFloat32(name, result);
        return result;
    }

    private byte* Pointer(SafetensorsTensorInfo t) => _base + _dataStart + t.Begin;

    private static void Convert(byte* source, SafetensorsDType dtype, Span<float> destination)
    {
        switch (dtype)
        {
            case SafetensorsDType.F32:
                new ReadOnlySpan<float>(source, destination.Length).CopyTo(destination);
                break;
            case SafetensorsDType.F16:
            {
                var s = new ReadOnlySpan<Half>(source, destination.Length);
                for (int i = 0; i < s.Length; i++) destination[i] = (float)s[i];
                break;
            }
            case SafetensorsDType.BF16:
            {
                var s = new ReadOnlySpan<ushort>(source, destination.Length);
                for (int i = 0; i < s.Length; i++) destination[i] = BitConverter.Int32BitsToSingle(s[i] << 16);
                break;
            }
        }
    }

    /// <summary>Unmaps the file.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
