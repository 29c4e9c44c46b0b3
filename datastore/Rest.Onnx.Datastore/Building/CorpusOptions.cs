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

    /// <summary>Threads used for tokenization; output order never depends on it.</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;
}
