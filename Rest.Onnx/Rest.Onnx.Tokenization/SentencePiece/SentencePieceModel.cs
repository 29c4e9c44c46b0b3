namespace Rest.Onnx.Tokenization.SentencePiece;

/// <summary>
/// The fields of a SentencePiece <c>tokenizer.model</c> (a serialized <c>sentencepiece.ModelProto</c>)
/// that encoding and decoding need. Field numbers follow sentencepiece_model.proto.
/// </summary>
internal sealed class SentencePieceModel
{
    /// <summary>TrainerSpec.ModelType values.</summary>
    public const int ModelTypeUnigram = 1, ModelTypeBpe = 2;

    private SentencePieceModel() { }

    public string[] Pieces { get; private set; } = [];
    public float[] Scores { get; private set; } = [];
    public PieceType[] Types { get; private set; } = [];

    public int ModelType { get; private set; } = ModelTypeUnigram;
    public bool ByteFallback { get; private set; }
    public bool TreatWhitespaceAsSuffix { get; private set; }
    public int UnkId { get; private set; }
    public int BosId { get; private set; } = 1;
    public int EosId { get; private set; } = 2;
    public int PadId { get; private set; } = -1;

    public string NormalizerName { get; private set; } = string.Empty;
    public int PrecompiledCharsMapLength { get; private set; }
    public bool AddDummyPrefix { get; private set; } = true;
    public bool RemoveExtraWhitespaces { get; private set; } = true;
    public bool EscapeWhitespaces { get; private set; } = true;

    /// <summary>Parses a model file's bytes.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a SentencePiece model.</exception>
    public static SentencePieceModel Parse(ReadOnlySpan<byte> bytes, string path)
    {
        var pieces = new List<string>();
        var scores = new List<float>();
        var types = new List<PieceType>();
        var model = new SentencePieceModel();
        var reader = new ProtoReader(bytes, path);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case 1:
                    reader.Expect(wire, 2, field);
                    ReadPiece(reader.ReadBytes(), path, pieces, scores, types);
                    break;
                case 2:
                    reader.Expect(wire, 2, field);
                    model.ReadTrainerSpec(reader.ReadBytes(), path);
                    break;
                case 3:
                    reader.Expect(wire, 2, field);
                    model.ReadNormalizerSpec(reader.ReadBytes(), path);
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        if (pieces.Count == 0) throw new InvalidDataException($"'{path}' holds no vocabulary pieces: not a SentencePiece model.");
        model.Pieces = [.. pieces];
        model.Scores = [.. scores];
        model.Types = [.. types];
        foreach (var (name, id) in new[] { ("unk_id", model.UnkId), ("bos_id", model.BosId), ("eos_id", model.EosId), ("pad_id", model.PadId) })
        {
            if (id < -1 || id >= pieces.Count)
                throw new InvalidDataException($"'{path}': trainer_spec.{name} = {id} is outside the vocabulary of {pieces.Count} pieces.");
        }
        return model;
    }

    private static void ReadPiece(ReadOnlySpan<byte> bytes, string path, List<string> pieces, List<float> scores, List<PieceType> types)
    {
        var reader = new ProtoReader(bytes, path);
        string? piece = null;
        var score = 0f;
        var type = PieceType.Normal;
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case 1: reader.Expect(wire, 2, field); piece = reader.ReadString(); break;
                case 2: reader.Expect(wire, 5, field); score = reader.ReadFloat(); break;
                case 3:
                    reader.Expect(wire, 0, field);
                    var value = reader.ReadInt32();
                    if (value is < 1 or > 6)
                        throw new InvalidDataException($"'{path}': piece {pieces.Count} has unknown type {value}.");
                    type = (PieceType)value;
                    break;
                default: reader.Skip(wire); break;
            }
        }
        if (string.IsNullOrEmpty(piece)) throw new InvalidDataException($"'{path}': piece {pieces.Count} is empty.");
        pieces.Add(piece);
        scores.Add(score);
        types.Add(type);
    }

    private void ReadTrainerSpec(ReadOnlySpan<byte> bytes, string path)
    {
        var reader = new ProtoReader(bytes, path);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case 3: reader.Expect(wire, 0, field); ModelType = reader.ReadInt32(); break;
                case 24: reader.Expect(wire, 0, field); TreatWhitespaceAsSuffix = reader.ReadBool(); break;
                case 35: reader.Expect(wire, 0, field); ByteFallback = reader.ReadBool(); break;
                case 40: reader.Expect(wire, 0, field); UnkId = reader.ReadInt32(); break;
                case 41: reader.Expect(wire, 0, field); BosId = reader.ReadInt32(); break;
                case 42: reader.Expect(wire, 0, field); EosId = reader.ReadInt32(); break;
                case 43: reader.Expect(wire, 0, field); PadId = reader.ReadInt32(); break;
                default: reader.Skip(wire); break;
            }
        }
    }

    private void ReadNormalizerSpec(ReadOnlySpan<byte> bytes, string path)
    {
        var reader = new ProtoReader(bytes, path);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case 1: reader.Expect(wire, 2, field); NormalizerName = reader.ReadString(); break;
                case 2: reader.Expect(wire, 2, field); PrecompiledCharsMapLength = reader.ReadBytes().Length; break;
                case 3: reader.Expect(wire, 0, field); AddDummyPrefix = reader.ReadBool(); break;
                case 4: reader.Expect(wire, 0, field); RemoveExtraWhitespaces = reader.ReadBool(); break;
                case 5: reader.Expect(wire, 0, field); EscapeWhitespaces = reader.ReadBool(); break;
                default: reader.Skip(wire); break;
            }
        }
    }
}
