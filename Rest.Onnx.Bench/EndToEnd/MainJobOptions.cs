using Rest.Onnx.Datastore.Search;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Bench.EndToEnd;

/// <summary>Options of the main job (the end-to-end comparison); every one has a default that runs the built-in demo.
/// The command line is <see cref="Commands.MainJobCommand"/>.</summary>
internal sealed record MainJobOptions
{
    /// <summary>Hugging Face checkpoint folder (exported on first use) or an exported folder with rest-model.json; null = the demo model.</summary>
    public string? Model { get; init; }

    /// <summary>A datastore file; null = the demo datastore built from the non-held-out standard library (plus <see cref="ExtraCorpus"/>).</summary>
    public string? Datastore { get; init; }

    /// <summary>
    /// When <see cref="Datastore"/> is null: draft from the large demo datastore (<c>--datastore-size large</c>: Debian
    /// packages' Python files, 100M tokens, built once into .cache/large) instead of the standard-library one.
    /// </summary>
    public bool LargeDatastore { get; init; }

    /// <summary>Also run the runtime's adaptive budget (rest@adaptive, promptlookup@adaptive) when a fixed budget is swept.</summary>
    public bool Adaptive { get; init; } = true;

    /// <summary>More corpus files or folders (*.py) added to the demo datastore.</summary>
    public IReadOnlyList<string> ExtraCorpus { get; init; } = [];

    /// <summary>JSONL prompts file (a <c>prompt</c> field per line); null = the demo's dev prompts.</summary>
    public string? Prompts { get; init; }

    /// <summary>Use only the first N prompts (0 = all; the command line takes N >= 1 or no option).</summary>
    public int PromptCount { get; init; }

    public int MaxNewTokens { get; init; } = 128;

    /// <summary>
    /// A prompt too long for the model's positions with <see cref="MaxNewTokens"/> is left-truncated to fit (its end
    /// kept) instead of skipped; either way the job goes on and the report counts it.
    /// </summary>
    public bool TruncatePrompts { get; init; }

    /// <summary>Strategies to run; None always runs, it is the reference.</summary>
    public IReadOnlyList<string> Strategies { get; init; } = ["none", "rest", "promptlookup", "hybrid", "genai"];

    /// <summary>Draft budgets swept for the drafting strategies; <see cref="DraftOptions.AutoBudget"/> (<c>auto</c>) chooses per step.</summary>
    public IReadOnlyList<int> Budgets { get; init; } = [4, 8, 16, 32, 64, DraftOptions.AutoBudget];

    /// <summary>Also run each drafting strategy at the auto budget with the store of past outputs (<c>+history</c> configs).</summary>
    public bool History { get; init; } = true;

    /// <summary>Run the prompt list this many times in a row (a workload that repeats itself, for the history store).</summary>
    public int Repeat { get; init; } = 1;

    /// <summary>
    /// Exact (all occurrences, by binary searches in the suffix-array interval) or Sampled (the reference's first
    /// k occurrences). Exact is the default here: same trees whenever a match has at most k occurrences, and
    /// measured 2-3x cheaper per draft (docs/benchmarks.md).
    /// </summary>
    public DraftMode DraftMode { get; init; } = DraftMode.Exact;

    /// <summary>Smallest continuation share a draft node needs (DraftOptions.MinShare) in the drafting configs; 0 = the reference.</summary>
    public double MinShare { get; init; }

    /// <summary>cpu | cuda | auto.</summary>
    public string ExecutionProvider { get; init; } = "cpu";

    /// <summary>
    /// Intra-op threads of both engines, ours and onnxruntime-genai, pinned equal (0 = one per core), so the outside
    /// baseline races on the same threads; the report names the count.
    /// </summary>
    public int Threads { get; init; }

    /// <summary>The graph variant the demo checkpoint is exported in (gqa: one shared KV buffer, nothing of the context copied).</summary>
    public GraphVariant Variant { get; init; } = GraphVariant.Gqa;

    /// <summary>Prompts run (and discarded) before measuring.</summary>
    public int Warmup { get; init; } = 2;

    /// <summary>Where reports go; null = artifacts/main-job under the repository.</summary>
    public string? Output { get; init; }

    /// <summary>Where the exported demo model and datastore are cached; null = .cache/demo under the repository.</summary>
    public string? Cache { get; init; }
}
