using System.Text;

namespace Rest.Onnx.Tests.Tokenization;

/// <summary>Writes small SentencePiece model files (protobuf by hand) for tests of single rules.</summary>
internal sealed class SentencePieceModelBuilder
{
    public const int Normal = 1, Unknown = 2, Control = 3, Unused = 5, Byte = 6;

    private readonly List<(string Piece, float Score, int Type)> _pieces = [("<unk>", 0, Unknown), ("<s>", 0, Control), ("</s>", 0, Control)];

    public int ModelType { get; init; } = 2;
    public bool ByteFallback { get; init; }
    public bool AddDummyPrefix { get; init; }
    public bool RemoveExtraWhitespaces { get; init; }
    public byte[] CharsMap { get; init; } = [];

    /// <summary>Adds a piece and returns its id.</summary>
    public int Add(string piece, float score = 0, int type = Normal)
    {
        _pieces.Add((piece, score, type));
        return _pieces.Count - 1;
    }

    public SentencePieceModelBuilder WithBytes()
    {
        for (var b = 0; b < 256; b++) Add($"<0x{b:X2}>", 0, Byte);
        return this;
    }

    public string Write(string directory)
    {
        var model = new MemoryStream();
        foreach (var (piece, score, type) in _pieces)
        {
            var message = new MemoryStream();
            WriteBytes(message, 1, Encoding.UTF8.GetBytes(piece));
            WriteTag(message, 2, 5);
            message.Write(BitConverter.GetBytes(score));
            WriteVarintField(message, 3, (ulong)type);
            WriteBytes(model, 1, message.ToArray());
        }
        var trainer = new MemoryStream();
        WriteVarintField(trainer, 3, (ulong)ModelType);
        WriteVarintField(trainer, 35, ByteFallback ? 1UL : 0UL);
        WriteVarintField(trainer, 40, 0);
        WriteVarintField(trainer, 41, 1);
        WriteVarintField(trainer, 42, 2);
        WriteBytes(model, 2, trainer.ToArray());
        var normalizer = new MemoryStream();
        WriteBytes(normalizer, 1, Encoding.UTF8.GetBytes(CharsMap.Length > 0 ? "nmt_nfkc" : "identity"));
        if (CharsMap.Length > 0) WriteBytes(normalizer, 2, CharsMap);
        WriteVarintField(normalizer, 3, AddDummyPrefix ? 1UL : 0UL);
        WriteVarintField(normalizer, 4, RemoveExtraWhitespaces ? 1UL : 0UL);
        WriteVarintField(normalizer, 5, 1);
        WriteBytes(model, 3, normalizer.ToArray());
        var path = Path.Combine(directory, "tokenizer.model");
        File.WriteAllBytes(path, model.ToArray());
        return path;
    }

    private static void WriteTag(Stream s, int field, int wire) => WriteVarint(s, (ulong)((field << 3) | wire));

    private static void WriteVarintField(Stream s, int field, ulong value)
    {
        WriteTag(s, field, 0);
        WriteVarint(s, value);
    }

    private static void WriteBytes(Stream s, int field, byte[] bytes)
    {
        WriteTag(s, field, 2);
        WriteVarint(s, (ulong)bytes.Length);
        s.Write(bytes);
    }

    private static void WriteVarint(Stream s, ulong value)
    {
        while (value >= 0x80)
        {
            s.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        s.WriteByte((byte)value);
    }
}
