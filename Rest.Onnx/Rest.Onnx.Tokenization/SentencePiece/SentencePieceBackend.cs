namespace Rest.Onnx.Tokenization.SentencePiece;

/// <summary>tokenizer.model through the project's SentencePiece BPE encoder.</summary>
internal sealed class SentencePieceBackend(SentencePieceModel model, BpeEncoder encoder) : ITokenizerBackend
{
    private Dictionary<string, int>? _specialIds;

    public int VocabularySize => encoder.VocabularySize;
    public int BosId => model.BosId;
    public int EosId => model.EosId;
    public int PadId => model.PadId;

    // spm_encode never matches control pieces in text, so special-token text is always plain text here.
    public void Encode(ReadOnlySpan<char> text, List<int> ids, bool parseSpecialTokens) => encoder.Encode(text, ids);

    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens) => encoder.Decode(ids, keepControl: !skipSpecialTokens);

    public bool IsSpecialToken(int id) => (uint)id < (uint)model.Types.Length && model.Types[id] == PieceType.Control;

    public bool TryGetSpecialTokenId(string content, out int id)
    {
        _specialIds ??= Enumerable.Range(0, model.Pieces.Length)
            .Where(i => model.Types[i] is PieceType.Control or PieceType.UserDefined or PieceType.Unknown)
            .GroupBy(i => model.Pieces[i], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        return _specialIds.TryGetValue(content, out id);
    }
}
