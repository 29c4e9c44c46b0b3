using Rest.Onnx.Tokenization.HuggingFace;
using Rest.Onnx.Tokenization.SentencePiece;

namespace Rest.Onnx.Tokenization;

/// <summary>The format of the file a <see cref="TextTokenizer"/> was loaded from.</summary>
public enum TokenizerFormat
{
    /// <summary>A SentencePiece BPE <c>tokenizer.model</c>, encoded by the project's own encoder (ids as <c>spm_encode</c>).</summary>
    SentencePiece,

    /// <summary>A Hugging Face <c>tokenizer.json</c> with a BPE model, encoded by HF tokenizers' Rust core (ids as HF).</summary>
    HuggingFaceJson,
}

/// <summary>
/// The one tokenizer the datastore builder, the tools, the exporter and the runtime all use.
/// <see cref="Load"/> picks the backend by file: a Hugging Face <c>tokenizer.json</c> (BPE, byte-level
/// as Llama 3 and Qwen or SentencePiece-style with byte fallback as Llama 2 and Mistral) is encoded by
/// Hugging Face tokenizers' own Rust core, so ids are exactly HF's; a SentencePiece BPE
/// <c>tokenizer.model</c> is encoded by the project's encoder, whose ids match <c>spm_encode</c>.
/// A folder with both uses tokenizer.json, as HF transformers does (<see cref="IgnoredFile"/> says so).
/// Encoding never adds BOS/EOS; callers add them where the model expects them.
/// Thread-safe. The HF backend's native memory is released when the instance is garbage-collected.
/// </summary>
public sealed class TextTokenizer
{
    private readonly ITokenizerBackend _backend;

    private TextTokenizer(ITokenizerBackend backend, TokenizerFormat format, string fingerprint, string sourcePath, string? ignoredFile)
    {
        _backend = backend;
        Format = format;
        Fingerprint = fingerprint;
        SourcePath = sourcePath;
        IgnoredFile = ignoredFile;
    }

    /// <summary>Number of token ids (all ids are in [0, VocabularySize)); for tokenizer.json the highest id of the vocabulary and added tokens plus one.</summary>
    public int VocabularySize => _backend.VocabularySize;

    /// <summary>Beginning-of-sequence id; -1 when the tokenizer defines none (Qwen, for one). For tokenizer.json it is read from tokenizer_config.json beside it when present.</summary>
    public int BosId => _backend.BosId;

    /// <summary>End-of-sequence id (-1 when the tokenizer defines none). For tokenizer.json it is read from tokenizer_config.json beside it when present.</summary>
    public int EosId => _backend.EosId;

    /// <summary>Padding id from the model (-1 when the model defines none); it never occurs in encoded text.</summary>
    public int PadId => _backend.PadId;

    /// <summary>See <see cref="TokenizerFingerprint"/>: the hash of the file actually loaded (<see cref="SourcePath"/>).</summary>
    public string Fingerprint { get; }

    /// <summary>The tokenizer file this was loaded from.</summary>
    public string SourcePath { get; }

    /// <summary>Which backend encodes: tokenizer.json (HF tokenizers) or tokenizer.model (SentencePiece).</summary>
    public TokenizerFormat Format { get; }

    /// <summary>When a folder held both tokenizer.json and tokenizer.model: the tokenizer.model that was not used; otherwise null.</summary>
    public string? IgnoredFile { get; }

    /// <summary>One line for tools: file, format, vocabulary and, when it applies, the file that was not used.</summary>
    public string Description => $"{SourcePath} ({(Format == TokenizerFormat.HuggingFaceJson ? "Hugging Face tokenizer.json, BPE" : "SentencePiece BPE")}, " +
        $"{VocabularySize:N0} ids{(IgnoredFile is null ? "" : $"; {Path.GetFileName(IgnoredFile)} in the same folder not used")})";

    /// <summary>
    /// Loads a tokenizer from a file (tokenizer.json or tokenizer.model, told apart by content) or a model
    /// folder (tokenizer.json first, then tokenizer.model).
    /// </summary>
    /// <exception cref="FileNotFoundException">No tokenizer file.</exception>
    /// <exception cref="InvalidDataException">The file is neither a BPE tokenizer.json nor a SentencePiece BPE model with identity normalization (the message names the problem, e.g. a WordPiece or Unigram model type).</exception>
    /// <exception cref="PlatformNotSupportedException">A tokenizer.json on a platform without HF tokenizers' native package (the message names the package to add).</exception>
    public static TextTokenizer Load(string fileOrFolder)
    {
        var path = TokenizerFingerprint.ResolveFile(fileOrFolder);
        string? ignored = null;
        if (Directory.Exists(fileOrFolder))
        {
            var other = Path.Combine(fileOrFolder, "tokenizer.model");
            if (!string.Equals(Path.GetFileName(path), "tokenizer.model", StringComparison.Ordinal) && File.Exists(other)) ignored = other;
        }
        var bytes = File.ReadAllBytes(path);
        var fingerprint = TokenizerFingerprint.OfBytes(bytes);
        if (LooksLikeJson(bytes) || path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            return new TextTokenizer(HfJsonBackend.Load(bytes, path), TokenizerFormat.HuggingFaceJson, fingerprint, path, ignored);
        var model = SentencePieceModel.Parse(bytes, path);
        var encoder = new BpeEncoder(model, path);
        return new TextTokenizer(new SentencePieceBackend(model, encoder), TokenizerFormat.SentencePiece, fingerprint, path, ignored);
    }

    /// <summary>Encodes text to ids (no BOS/EOS), appending to <paramref name="ids"/>. Special tokens' text (e.g. <c>&lt;|im_end|&gt;</c>) becomes the special id, as HF does by default.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="ids"/> is null.</exception>
    /// <exception cref="ArgumentException">tokenizer.json only: the text has an unpaired UTF-16 surrogate.</exception>
    public void Encode(ReadOnlySpan<char> text, List<int> ids) => Encode(text, ids, parseSpecialTokens: true);

    /// <summary>Encodes text to ids (no BOS/EOS), appending to <paramref name="ids"/>.</summary>
    /// <param name="text">The text, exactly as given.</param>
    /// <param name="ids">Receives the ids.</param>
    /// <param name="parseSpecialTokens">True: special tokens' text becomes their ids (HF's default). False: it is encoded as plain text
    /// (HF's encode_special_tokens), which keeps untrusted text from forging control tokens. A tokenizer.model always encodes it as
    /// plain text, as <c>spm_encode</c> does.</param>
    /// <exception cref="ArgumentNullException"><paramref name="ids"/> is null.</exception>
    /// <exception cref="ArgumentException">tokenizer.json only: the text has an unpaired UTF-16 surrogate.</exception>
    public void Encode(ReadOnlySpan<char> text, List<int> ids, bool parseSpecialTokens)
    {
        ArgumentNullException.ThrowIfNull(ids);
        _backend.Encode(text, ids, parseSpecialTokens);
    }

    /// <summary>Encodes text to ids (no BOS/EOS); special tokens' text becomes their ids.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public int[] Encode(string text) => Encode(text, parseSpecialTokens: true);

    /// <summary>Encodes text to ids (no BOS/EOS); see <see cref="Encode(ReadOnlySpan{char}, List{int}, bool)"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public int[] Encode(string text, bool parseSpecialTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        _backend.Encode(text.AsSpan(), ids, parseSpecialTokens);
        return [.. ids];
    }

    /// <summary>Decodes ids to text, dropping special tokens such as BOS/EOS (byte pieces are reassembled as UTF-8).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside [0, <see cref="VocabularySize"/>).</exception>
    public string Decode(ReadOnlySpan<int> ids) => _backend.Decode(ids, skipSpecialTokens: true);

    /// <summary>Decodes ids to text; with <paramref name="skipSpecialTokens"/> false, special tokens keep their text (as HF's <c>skip_special_tokens=False</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside [0, <see cref="VocabularySize"/>).</exception>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens) => _backend.Decode(ids, skipSpecialTokens);

    /// <summary>Whether <paramref name="id"/> is a special token (tokenizer.json: an added token marked special; tokenizer.model: a control piece).</summary>
    public bool IsSpecialToken(int id) => _backend.IsSpecialToken(id);

    /// <summary>The id of a special or added token given by its text (e.g. <c>&lt;|im_start|&gt;</c>); false when there is none.</summary>
    public bool TryGetSpecialTokenId(string content, out int id)
    {
        ArgumentNullException.ThrowIfNull(content);
        return _backend.TryGetSpecialTokenId(content, out id);
    }

    // A tokenizer.json starts with '{' (after optional whitespace or a UTF-8 BOM); a SentencePiece model
    // starts with protobuf field 1 (byte 0x0A).
    private static bool LooksLikeJson(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith("\uFEFF"u8)) bytes = bytes[3..];
        foreach (var b in bytes)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') continue;
            return b == (byte)'{';
        }
        return false;
    }
}
