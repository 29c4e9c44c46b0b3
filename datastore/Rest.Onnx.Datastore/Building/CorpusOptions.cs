namespace Rest.Onnx.Datastore.Building;

/// <summary>How input files hold documents.</summary>
public enum CorpusFormat
{
    /// <summary>Each file is one document of UTF-8 text, tokenized with the model's tokenizer.</summary>
    Text,
    /// <summary>Each non-empty line is a JSON object; one string field is a document of text.</summary>
    Jsonl,
    /// <summary>Each non-empty line is one document of space-separated token ids (no tokenizer needed).</summary>
    PreTokenized,
}

/// <summary>Where and how a build reads its documents.</summary>
public sealed record CorpusOptions
{
    /// <summary>How files hold documents.</summary>
    public CorpusFormat Format { get; init; } = CorpusFormat.Text;

    /// <summary>File-name pattern (<c>*</c> and <c>?</c>) applied to files found in input folders, recursively.</summary>
    public string SearchPattern { get; init; } = "*";

    /// <summary>The JSON field holding the text, for <see cref="CorpusFormat.Jsonl"/>.</summary>
    public string JsonField { get; init; } = "text";

    /// <summary>
    /// Skip input files that look binary (contain a NUL byte) or are not valid UTF-8, instead of reading them with
    /// U+FFFD for each bad sequence. Either way they are counted in the summary and named in a progress warning.
    /// Pre-tokenized input is never skipped for this (its parse errors name the line).
    /// </summary>
    public bool SkipInvalidText { get; init; }

    /// <summary>Threads used for tokenization; output order never depends on it.</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Stop adding documents once the store holds at least this many tokens (separators included): the store is the
    /// shortest prefix of the inputs, in order, that reaches it (all of them when they hold fewer). 0 = no limit.
    /// Files after that point are not read; a batch already tokenized in parallel is the most that is wasted.
    /// </summary>
    public long MaxTokens { get; init; }
}
