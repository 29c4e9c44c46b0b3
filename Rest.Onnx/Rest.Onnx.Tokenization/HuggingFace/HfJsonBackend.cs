using System.Text.Json;

namespace Rest.Onnx.Tokenization.HuggingFace;

/// <summary>tokenizer.json through Hugging Face tokenizers' Rust core: the ids are HF's by construction.</summary>
internal sealed class HfJsonBackend : ITokenizerBackend
{
    private readonly TokenizerJson _info;
    private readonly NativeHfTokenizer _native;
    private readonly bool[] _special;
    private readonly Dictionary<string, int> _addedIds;
    private readonly Lazy<NativeHfTokenizer> _specialAsText;

    private HfJsonBackend(TokenizerJson info, NativeHfTokenizer native, Lazy<NativeHfTokenizer> specialAsText)
    {
        _info = info;
        _native = native;
        _specialAsText = specialAsText;
        _special = new bool[info.VocabularySize];
        _addedIds = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in info.AddedTokens)
        {
            if (t.Special) _special[t.Id] = true;
            _addedIds.TryAdd(t.Content, t.Id);
        }
    }

    public TokenizerJson Info => _info;

    /// <exception cref="InvalidDataException">The file is not JSON, not BPE, or HF tokenizers rejects it.</exception>
    /// <exception cref="PlatformNotSupportedException">HF tokenizers' native library is missing for this platform.</exception>
    public static HfJsonBackend Load(byte[] bytes, string path)
    {
        JsonDocument doc;
        // System.Text.Json does not skip a UTF-8 byte-order mark; editors on Windows write one.
        var json = bytes.AsMemory(bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0);
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 }); }
        catch (JsonException e) { throw new InvalidDataException($"'{path}' is not valid JSON ({e.Message}): not a Hugging Face tokenizer.json.", e); }
        using (doc)
        {
            var info = TokenizerJson.Parse(doc, path);
            var native = NativeHfTokenizer.Load(TokenizerJson.Rewrite(doc, specialAsText: false), path);
            // The second tokenizer (special tokens' text as plain text) is built only when first asked for.
            var plainJson = info.AddedTokens.Any(t => t.Special) ? TokenizerJson.Rewrite(doc, specialAsText: true) : null;
            var plain = new Lazy<NativeHfTokenizer>(() => plainJson is null ? native : NativeHfTokenizer.Load(plainJson, path));
            return new HfJsonBackend(info, native, plain);
        }
    }

    public int VocabularySize => _info.VocabularySize;
    public int BosId => _info.BosId;
    public int EosId => _info.EosId;
    public int PadId => _info.PadId;

    public void Encode(ReadOnlySpan<char> text, List<int> ids, bool parseSpecialTokens)
    {
        if (text.IsEmpty) return;
        ThrowOnUnpairedSurrogate(text);
        (parseSpecialTokens ? _native : _specialAsText.Value).Encode(text.ToString(), ids);
    }

    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens)
    {
        var count = 0;
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)_special.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is outside the vocabulary [0, {_special.Length}).");
            if (!(skipSpecialTokens && _special[id])) count++;
        }
        // HF's skip_special_tokens drops those ids before its decoder chain; doing the same here keeps the result identical.
        var kept = new uint[count];
        var k = 0;
        foreach (var id in ids)
        {
            if (!(skipSpecialTokens && _special[id])) kept[k++] = (uint)id;
        }
        return _native.Decode(kept);
    }

    public bool IsSpecialToken(int id) => (uint)id < (uint)_special.Length && _special[id];

    public bool TryGetSpecialTokenId(string content, out int id) => _addedIds.TryGetValue(content, out id);

    private static void ThrowOnUnpairedSurrogate(ReadOnlySpan<char> text)
    {
        var at = text.IndexOfAnyInRange('\uD800', '\uDFFF');
        while (at >= 0)
        {
            if (!char.IsHighSurrogate(text[at]) || at + 1 >= text.Length || !char.IsLowSurrogate(text[at + 1]))
                throw new ArgumentException($"The text has an unpaired UTF-16 surrogate at index {at}; it cannot be UTF-8 text.", nameof(text));
            var next = text[(at + 2)..].IndexOfAnyInRange('\uD800', '\uDFFF');
            at = next < 0 ? -1 : at + 2 + next;
        }
    }
}
