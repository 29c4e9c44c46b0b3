namespace Rest.Onnx.Datastore.Format;

/// <summary>
/// The datastore was built with another tokenizer than the caller's: its token ids would stand for other text.
/// </summary>
public sealed class TokenizerMismatchException : InvalidOperationException
{
    /// <summary>Creates the exception naming both fingerprints.</summary>
    public TokenizerMismatchException(string path, string expected, string actual)
        : base($"Datastore '{path}' was built with tokenizer {Describe(actual)}, but the caller's tokenizer is {Describe(expected)}. " +
               "Rebuild the datastore with the model's tokenizer.")
    {
        FilePath = path;
        ExpectedFingerprint = expected;
        ActualFingerprint = actual;
    }

    /// <summary>Creates an exception with a plain message.</summary>
    public TokenizerMismatchException(string message) : base(message)
        => FilePath = ExpectedFingerprint = ActualFingerprint = string.Empty;

    /// <summary>Creates an exception with a plain message and a cause.</summary>
    public TokenizerMismatchException(string message, Exception innerException) : base(message, innerException)
        => FilePath = ExpectedFingerprint = ActualFingerprint = string.Empty;

    /// <summary>Creates an empty exception.</summary>
    public TokenizerMismatchException() => FilePath = ExpectedFingerprint = ActualFingerprint = string.Empty;

    /// <summary>The datastore file.</summary>
    public string FilePath { get; }

    /// <summary>The caller's tokenizer fingerprint.</summary>
    public string ExpectedFingerprint { get; }

    /// <summary>The fingerprint stored in the datastore (empty when it was built from pre-tokenized ids without one).</summary>
    public string ActualFingerprint { get; }

    private static string Describe(string fingerprint) => fingerprint.Length == 0 ? "(none recorded)" : $"'{fingerprint}'";
}
