namespace Rest.Onnx.DemoModel.Corpus.Large;

/// <summary>What <see cref="LargeCorpus"/> builds; every value has the documented default.</summary>
public sealed record LargeCorpusOptions
{
    /// <summary>The default store size: the REST paper's figure reaches about 100M tokens and beyond.</summary>
    public const long DefaultTokensTarget = 100_000_000;

    /// <summary>Cache folder: <c>debs/</c> (the downloaded packages, reused), <c>files/</c> (their Python files), the store and its manifest.</summary>
    public required string Folder { get; init; }

    /// <summary>The demo tokenizer (tokenizer.model or a model folder).</summary>
    public required string Tokenizer { get; init; }

    /// <summary>The dev and context prompts whose text no kept file may contain.</summary>
    public required IReadOnlyList<string> PromptFiles { get; init; }

    /// <summary>Debian packages whose <c>*.py</c> files make the corpus.</summary>
    public IReadOnlyList<string> Packages { get; init; } = LargeCorpusPackages.Default;

    /// <summary>The store is the shortest prefix of the corpus order holding at least this many tokens; fewer in all is an error.</summary>
    public long TokensTarget { get; init; } = DefaultTokensTarget;

    /// <summary>The standard library, whose files (held out or not) no kept file may equal.</summary>
    public string StandardLibraryRoot { get; init; } = DemoCorpus.DefaultRoot;

    /// <summary>Rebuild the store even when its manifest says it is up to date.</summary>
    public bool Force { get; init; }
}
