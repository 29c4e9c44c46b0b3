namespace Rest.Onnx.Datastore.Building;

/// <summary>Parameters of a datastore build; all are recorded in the file's header or build parameters.</summary>
public sealed record DatastoreBuildOptions
{
    /// <summary>Default maximum tokens per shard (as the reference's 512M-token chunks).</summary>
    public const long DefaultMaxShardTokens = 512L * 1024 * 1024;

    /// <summary>Value of <see cref="Separator"/> meaning documents are joined without a separator.</summary>
    public const int NoSeparator = -1;

    /// <summary>Number of token ids; every id must lie in [0, VocabularySize). Decides the token width (2 or 4 bytes).</summary>
    public required int VocabularySize { get; init; }

    /// <summary>Token placed between documents; continuations never cross it. <see cref="NoSeparator"/> for none.</summary>
    public int Separator { get; init; } = NoSeparator;

    /// <summary>Largest shard in tokens, at most 2^31-1 (the suffix array is int32).</summary>
    public long MaxShardTokens { get; init; } = DefaultMaxShardTokens;

    /// <summary>Fingerprint of the tokenizer that produced the ids (see TokenizerFingerprint); empty when unknown.</summary>
    public string TokenizerFingerprint { get; init; } = string.Empty;

    /// <summary>Free text recorded with the build parameters (for example the inputs).</summary>
    public string Description { get; init; } = string.Empty;

    /// <summary>Checks the options, naming the first bad value.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        if (VocabularySize <= 0)
            throw new ArgumentOutOfRangeException(nameof(VocabularySize), VocabularySize, "Vocabulary size must be positive.");
        if (Separator < NoSeparator || Separator >= VocabularySize)
            throw new ArgumentOutOfRangeException(nameof(Separator), Separator, $"Separator must be -1 (none) or an id in [0, {VocabularySize}).");
        if (MaxShardTokens < 2 || MaxShardTokens > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(MaxShardTokens), MaxShardTokens, $"Max shard tokens must be in [2, {int.MaxValue}].");
    }
}
