using System.Buffers.Binary;
using System.Text;

namespace Rest.Onnx.Tokenization.SentencePiece;

/// <summary>
/// Reads the few protobuf wire-format constructs a SentencePiece model file uses (varints,
/// length-delimited fields, fixed32 floats), so loading needs no generated code.
/// </summary>
internal ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _context;
    private int _position;

    public ProtoReader(ReadOnlySpan<byte> data, string context)
    {
        _data = data;
        _context = context;
        _position = 0;
    }

    public readonly bool AtEnd => _position >= _data.Length;

    /// <summary>Reads the next field tag; returns the field number and wire type.</summary>
    public (int Field, int WireType) ReadTag()
    {
        var tag = ReadVarint();
        var field = (int)(tag >> 3);
        if (field <= 0) throw Error($"invalid field number {field}");
        return (field, (int)(tag & 7));
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _data.Length) throw Error("truncated varint");
            var b = _data[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw Error("varint longer than 10 bytes");
    }

    public ReadOnlySpan<byte> ReadBytes()
    {
        var length = ReadVarint();
        if (length > (ulong)(_data.Length - _position)) throw Error($"length {length} runs past the end");
        var slice = _data.Slice(_position, (int)length);
        _position += (int)length;
        return slice;
    }

    public string ReadString() => Encoding.UTF8.GetString(ReadBytes());

    public float ReadFloat()
    {
        if (_data.Length - _position < 4) throw Error("truncated fixed32");
        var value = BinaryPrimitives.ReadSingleLittleEndian(_data.Slice(_position, 4));
        _position += 4;
        return value;
    }

    /// <summary>Reads an int32 field value (negative numbers are 10-byte varints).</summary>
    public int ReadInt32() => unchecked((int)ReadVarint());

    public bool ReadBool() => ReadVarint() != 0;

    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case 0: ReadVarint(); break;
            case 1: Advance(8); break;
            case 2: ReadBytes(); break;
            case 5: Advance(4); break;
            default: throw Error($"unsupported wire type {wireType}");
        }
    }

    /// <summary>Checks a field's wire type before reading it as the expected kind.</summary>
    public readonly void Expect(int wireType, int expected, int field)
    {
        if (wireType != expected) throw Error($"field {field} has wire type {wireType}, expected {expected}");
    }

    private void Advance(int count)
    {
        if (_data.Length - _position < count) throw Error("truncated field");
        _position += count;
    }

    private readonly InvalidDataException Error(string problem)
        => new($"{_context}: malformed protobuf at byte {_position}: {problem}.");
}
