namespace Rest.Onnx.Tokenization;

/// <summary>What <see cref="TextTokenizer"/> asks of a tokenizer file format.</summary>
internal interface ITokenizerBackend
{
    int VocabularySize { get; }
    int BosId { get; }
    int EosId { get; }
    int PadId { get; }
    void Encode(ReadOnlySpan<char> text, List<int> ids, bool parseSpecialTokens);
    string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens);
    bool IsSpecialToken(int id);
    bool TryGetSpecialTokenId(string content, out int id);
}
