namespace Rest.Onnx.Bench.Reporting;

/// <summary>What one strategy did on one prompt.</summary>
internal sealed record RunFigures(
    int PromptIndex,
    string PromptLabel,
    string Config,
    string Strategy,
    int Budget,
    int PromptTokens,
    int NewTokens,
    double WallSeconds,
    double DecodeSeconds,
    int Steps,
    double MeanAcceptedPerStep,
    IReadOnlyList<long> AcceptedHistogram,
    double DraftingMs,
    double ModelMs,
    double AcceptanceMs,
    double CacheMs,
    bool EqualsNone,
    IReadOnlyList<int> Tokens)
{
    /// <summary>Steps per verified row count (index r = r rows); empty for genai.</summary>
    public IReadOnlyList<long> VerifiedRows { get; init; } = [];

    /// <summary>Time after the KV update: stop checks, text decoding, statistics.</summary>
    public double BookkeepingMs { get; init; }

    /// <summary>The step-cost calibration sweep, in the one run that paid it.</summary>
    public double CalibrationMs { get; init; }
}

/// <summary>One strategy (at one budget) over all prompts.</summary>
internal sealed record ConfigSummary(
    string Config,
    string Strategy,
    int Budget,
    int Prompts,
    long NewTokens,
    double TokensPerSecond,
    double DecodeTokensPerSecond,
    double MeanAcceptedPerStep,
    double Speedup,
    double MedianPromptSpeedup,
    int PromptsEqualToNone,
    IReadOnlyList<long> AcceptedHistogram,
    double DraftingMsPerToken,
    double ModelMsPerToken,
    double AcceptanceMsPerToken,
    double CacheMsPerToken)
{
    /// <summary>Bookkeeping (stop checks, text, statistics) per token.</summary>
    public double BookkeepingMsPerToken { get; init; }

    /// <summary>
    /// A projection, not a measurement: the speedup these runs' verified rows would give if each step cost what
    /// a step of that many rows costs on a TinyLlama-1.1B-shaped model on this machine (drafting and other
    /// overheads left out on both sides); NaN without that cost curve.
    /// </summary>
    public double ProjectedSpeedup11B { get; init; } = double.NaN;
}
