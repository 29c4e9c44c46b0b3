using Rest.Onnx.Tokenization.SentencePiece;

namespace Rest.Onnx.Tokenization;

/// <summary>
/// The one tokenizer the datastore builder, the trainer's data preparation and the runtime all use.
/// Loads a SentencePiece BPE <c>tokenizer.model</c> and encodes exactly as SentencePiece does
/// (equal-score merges leftmost first, byte fallback), so ids match <c>spm_encode</c>.
/// Encoding never adds BOS/EOS; callers add them where the model expects them.
/// Thread-safe: the vocabulary is read-only and scratch buffers are per thread.
/// </summary>
public sealed class TextTokenizer
{
    private readonly BpeEncoder _encoder;
    private readonly SentencePieceModel _model;

    private TextTokenizer(SentencePieceModel model, BpeEncoder encoder, string fingerprint, string sourcePath)
    {
        _model = model;
        _encoder = encoder;
        Fingerprint = fingerprint;
        SourcePath = sourcePath;
    }

    /// <summary>Number of token ids (all ids are in [0, VocabularySize)).</summary>
    public int VocabularySize => _encoder.VocabularySize;

    /// <summary>Beginning-of-sequence id.</summary>
    public int BosId => _model.BosId;

    /// <summary>End-of-sequence id.</summary>
    public int EosId => _model.EosId;

    /// <summary>Padding id from the model (-1 when the model defines none); it never occurs in encoded text.</summary>
    public int PadId => _model.PadId;

    /// <summary>See <see cref="TokenizerFingerprint"/>.</summary>
    public string Fingerprint { get; }

    /// <summary>The tokenizer file this was loaded from.</summary>
    public string SourcePath { get; }

    /// <summary>Loads <c>tokenizer.model</c> from a file path or a model folder.</summary>
    /// <exception cref="FileNotFoundException">No tokenizer file.</exception>
    /// <exception cref="InvalidDataException">The file is not a SentencePiece BPE model with identity normalization.</exception>
    public static TextTokenizer Load(string fileOrFolder)
    {
        var path = TokenizerFingerprint.ResolveFile(fileOrFolder);
        var bytes = File.ReadAllBytes(path);
        var model = SentencePieceModel.Parse(bytes, path);
        var encoder = new BpeEncoder(model, path);
        return new TextTokenizer(model, encoder, TokenizerFingerprint.OfBytes(bytes), path);
    }

    /// <summary>Encodes text to ids (no BOS/EOS), appending to <paramref name="ids"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="ids"/> is null.</exception>
    public void Encode(ReadOnlySpan<char> text, List<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        _encoder.Encode(text, ids);
    }

    /// <summary>Encodes text to ids (no BOS/EOS).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        _encoder.Encode(text.AsSpan(), ids);
        return [.. ids];
    }

    /// <summary>Decodes ids to text (control tokens such as BOS/EOS are dropped; byte pieces are reassembled as UTF-8).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside [0, <see cref="VocabularySize"/>).</exception>
    public string Decode(ReadOnlySpan<int> ids) => _encoder.Decode(ids);
}
