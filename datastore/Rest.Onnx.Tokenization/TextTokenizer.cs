using Microsoft.ML.Tokenizers;

namespace Rest.Onnx.Tokenization;

/// <summary>
/// The one tokenizer the datastore builder, the trainer's data preparation and the runtime all use.
/// Loads a SentencePiece BPE <c>tokenizer.model</c> through Microsoft.ML.Tokenizers.
/// Encoding never adds BOS/EOS; callers add them where the model expects them.
/// Thread-safe: encoding and decoding keep no shared mutable state.
/// </summary>
public sealed class TextTokenizer
{
    private readonly SentencePieceTokenizer _inner;

    private TextTokenizer(SentencePieceTokenizer inner, string fingerprint, string sourcePath)
    {
        _inner = inner;
        Fingerprint = fingerprint;
        SourcePath = sourcePath;
        VocabularySize = inner.Vocabulary.Count;
    }

    /// <summary>Number of token ids (all ids are in [0, VocabularySize)).</summary>
    public int VocabularySize { get; }

    /// <summary>Beginning-of-sequence id.</summary>
    public int BosId => _inner.BeginningOfSentenceId;

    /// <summary>End-of-sequence id.</summary>
    public int EosId => _inner.EndOfSentenceId;

    /// <summary>See <see cref="TokenizerFingerprint"/>.</summary>
    public string Fingerprint { get; }

    /// <summary>The tokenizer file this was loaded from.</summary>
    public string SourcePath { get; }

    /// <summary>Loads <c>tokenizer.model</c> from a file path or a model folder.</summary>
    /// <exception cref="FileNotFoundException">No tokenizer file.</exception>
    /// <exception cref="InvalidDataException">The file is not a SentencePiece model this package can load.</exception>
    public static TextTokenizer Load(string fileOrFolder)
    {
        var path = TokenizerFingerprint.ResolveFile(fileOrFolder);
        var bytes = File.ReadAllBytes(path);
        SentencePieceTokenizer inner;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            inner = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"'{path}' is not a SentencePiece BPE tokenizer model: {e.Message}", e);
        }
        return new TextTokenizer(inner, TokenizerFingerprint.OfBytes(bytes), path);
    }

    /// <summary>Encodes text to ids (no BOS/EOS), appending to <paramref name="ids"/>.</summary>
    public void Encode(ReadOnlySpan<char> text, List<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ids.AddRange(_inner.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false));
    }

    /// <summary>Encodes text to ids (no BOS/EOS).</summary>
    public int[] Encode(string text)
    {
        var ids = new List<int>();
        Encode(text.AsSpan(), ids);
        return [.. ids];
    }

    /// <summary>Decodes ids to text (special tokens are dropped).</summary>
    public string Decode(ReadOnlySpan<int> ids) => _inner.Decode(ids.ToArray()) ?? string.Empty;
}
