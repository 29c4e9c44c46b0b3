namespace Rest.Onnx.DemoModel.Corpus.Large;

/// <summary>What the large store was built from and how the build went; written as JSON next to the store.</summary>
public sealed record LargeCorpusManifest
{
    /// <summary>Hash of the inputs (packages, target, tokenizer, prompts, standard library, rule): equal means the store is up to date.</summary>
    public required string Stamp { get; init; }
    public required string Created { get; init; }
    public required string TokenizerFingerprint { get; init; }
    public required long TokensTarget { get; init; }
    public required string Order { get; init; }
    public required string ExclusionRule { get; init; }
    public required IReadOnlyList<PackageFigures> Packages { get; init; }
    /// <summary>Files left out, by <see cref="ExclusionReason"/> name, over all packages.</summary>
    public required IReadOnlyDictionary<string, long> Exclusions { get; init; }
    public required long CandidateFiles { get; init; }
    public required long KeptFiles { get; init; }
    public required long KeptBytes { get; init; }
    public required StoreFigures Store { get; init; }
}

/// <summary>One package: its exact version, what it gave and what reached the store.</summary>
public sealed record PackageFigures(string Name, string Version, string Deb, long PythonFiles, long PythonBytes, long KeptFiles, long KeptBytes,
    long StoreFiles, long StoreTokens, IReadOnlyDictionary<string, long> Excluded);

/// <summary>The store and its build.</summary>
public sealed record StoreFigures(string Path, long Tokens, long Documents, long FileBytes, double BuildSeconds, double SuffixArraySeconds,
    double TokensPerSecond, double SuffixArrayTokensPerSecond, long PeakMemoryBytes, double OpenMilliseconds);
