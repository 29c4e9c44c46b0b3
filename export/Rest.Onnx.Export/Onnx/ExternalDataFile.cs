using Google.Protobuf;
using Onnx;

namespace Rest.Onnx.Export.Onnx;

/// <summary>
/// Appends tensor bytes to the ONNX external data file (<c>model.onnx.data</c>) and fills in the
/// <c>location/offset/length</c> entries of each <see cref="TensorProto"/>. Large tensors start on a 4 KiB
/// boundary so ONNX Runtime can memory-map them.
/// </summary>
internal sealed class ExternalDataFile : IDisposable
{
    private const int PageAlignment = 4096;
    private const int SmallAlignment = 64;
    private readonly FileStream _stream;

    public ExternalDataFile(string path)
    {
        Path = path;
        FileName = System.IO.Path.GetFileName(path);
        _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
    }

    public string Path { get; }

    public string FileName { get; }

    public long BytesWritten => _stream.Position;

    /// <summary>Writes <paramref name="bytes"/> and points <paramref name="tensor"/> at them.</summary>
    public void Append(TensorProto tensor, ReadOnlySpan<byte> bytes)
    {
        int alignment = bytes.Length >= PageAlignment ? PageAlignment : SmallAlignment;
        long padding = (alignment - _stream.Position % alignment) % alignment;
        for (long i = 0; i < padding; i++) _stream.WriteByte(0);
        long offset = _stream.Position;
        _stream.Write(bytes);
        tensor.DataLocation = TensorProto.Types.DataLocation.External;
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = FileName });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    public void Dispose() => _stream.Dispose();
}
