namespace Rest.Onnx;

/// <summary>What one generation run does. Immutable; configure with <c>with</c> expressions. The defaults are greedy, no drafting, 128 tokens.</summary>
public sealed record GenerationOptions
{

    /// <summary>Most tokens generated (the stop token is not counted or returned).</summary>
    public int MaxNewTokens { get; init; } = 128;

    /// <summary>Token ids that end the run; null means the model's <c>eosTokenIds</c>, empty means none.</summary>
    public IReadOnlyList<int>? StopTokenIds { get; init; }

    /// <summary>Texts that end the run (needs a tokenizer); the returned text stops before the first match.</summary>
    public IReadOnlyList<string>? StopStrings { get; init; }

    /// <summary>Greedy or sampling.</summary>
    public DecodingStrategy Decoding { get; init; } = DecodingStrategy.Greedy;

    /// <summary>Temperature, top-k, top-p and seed for <see cref="DecodingStrategy.Sampling"/>.</summary>
    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>Where drafts come from (the strategy builds the source); <see cref="DraftingStrategy.None"/> is the baseline.</summary>
    public DraftingStrategy Drafting { get; init; } = DraftingStrategy.None;

    /// <summary>Draft parameters (budget, suffix lengths, occurrences, continuation length, datastore counting mode); the REST reference's defaults.</summary>
    public DraftOptions Draft { get; init; } = new();

    /// <summary>
    /// Adapt the number of draft nodes verified per step to how well drafts do (for CPUs, where every
    /// verified row costs): start at min(16, budget), halve after a step whose drafts were all rejected,
    /// double (up to <see cref="DraftOptions.Budget"/>) after one that accepted at least half the tree's depth.
    /// Output is unchanged; only speed is. Off by default; ignored under <see cref="DraftOptions.AutoBudget"/>, which
    /// chooses each step's tree from measured costs and odds instead.
    /// </summary>
    public bool AdaptiveBudget { get; init; }

    /// <summary>
    /// Also draft from the model's store of recent outputs (<see cref="RestModel.History"/>), merged with the
    /// strategy's drafts by their odds, and add this run's output to the store when it ends. Pays where requests
    /// repeat structure (templates, repeated tasks); ignored with <see cref="DraftingStrategy.None"/>. Off by default.
    /// </summary>
    public bool DraftFromHistory { get; init; }

    /// <summary>The store <see cref="DraftFromHistory"/> uses; null means the model's <see cref="RestModel.History"/>.</summary>
    public TokenHistory? History { get; init; }

    /// <summary>With <see cref="DraftFromHistory"/>, also add the prompt (not just the output) to the store.</summary>
    public bool AddPromptsToHistory { get; init; }

    /// <summary>
    /// Prepend the model's BOS token to text prompts (token-id prompts are used as given); null follows the
    /// model (<see cref="RestModel.AddsBosToText"/>, from <c>tokenizer_config.json</c>'s <c>add_bos_token</c>).
    /// </summary>
    public bool? AddBos { get; init; }

    /// <summary>
    /// Keep the generator's KV cache of the previous run's sequence (prompt and generated tokens) as far as this
    /// run's prompt repeats it, and prefill only the rest: a chat turn that extends the previous conversation
    /// does not recompute it. <see cref="GenerationStatistics.ReusedPromptTokens"/> says how many were kept.
    /// Off by default (every run starts from an empty cache).
    /// </summary>
    public bool ReuseCachedPrefix { get; init; }

    /// <summary>Largest <see cref="DraftOptions.Budget"/> a run accepts.</summary>
    public const int MaxDraftBudget = 1024;

    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    internal void Validate()
    {
        if (MaxNewTokens < 0) throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), MaxNewTokens, "Must not be negative.");
        if (Drafting is null) throw new ArgumentNullException(nameof(Drafting), "Choose a DraftingStrategy (DraftingStrategy.None for plain decoding).");
        if (Draft is null) throw new ArgumentNullException(nameof(Draft));
        if (Sampling is null) throw new ArgumentNullException(nameof(Sampling));
        Draft.Validate();
        if (Draft.Budget > MaxDraftBudget) throw new ArgumentOutOfRangeException(nameof(Draft), Draft.Budget, $"Draft budget must be at most {MaxDraftBudget}.");
        if (Decoding == DecodingStrategy.Sampling) Sampling.Validate();
        if (StopStrings is not null)
        {
            foreach (var s in StopStrings)
            {
                if (string.IsNullOrEmpty(s)) throw new ArgumentException("Stop strings must not be empty.", nameof(StopStrings));
            }
        }
    }
}
