namespace Rest.Onnx.Tokenization.SentencePiece;

/// <summary>Kinds of vocabulary entries (values as in sentencepiece_model.proto).</summary>
internal enum PieceType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}
