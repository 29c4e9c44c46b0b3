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
    IReadOnlyList<int> Tokens);

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
    double CacheMsPerToken);
