using System.Globalization;
using Rest.Onnx.Datastore.Search;

namespace Rest.Onnx.Bench.EndToEnd;

/// <summary>Options of the main job (the end-to-end comparison); every one has a default that runs the built-in demo.</summary>
internal sealed record MainJobOptions
{
    /// <summary>Hugging Face checkpoint folder (exported on first use) or an exported folder with rest-model.json; null = the demo model.</summary>
    public string? Model { get; init; }

    /// <summary>A datastore file; null = the demo datastore built from the non-held-out standard library (plus <see cref="ExtraCorpus"/>).</summary>
    public string? Datastore { get; init; }

    /// <summary>More corpus files or folders (*.py) added to the demo datastore.</summary>
    public IReadOnlyList<string> ExtraCorpus { get; init; } = [];

    /// <summary>JSONL prompts file (a <c>prompt</c> field per line); null = the demo's dev prompts.</summary>
    public string? Prompts { get; init; }

    /// <summary>Use only the first N prompts (0 = all).</summary>
    public int PromptCount { get; init; }

    public int MaxNewTokens { get; init; } = 128;

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

    /// <summary>Intra-op threads (0 = ONNX Runtime's default).</summary>
    public int Threads { get; init; }

    /// <summary>Prompts run (and discarded) before measuring.</summary>
    public int Warmup { get; init; } = 2;

    /// <summary>Where reports go; null = artifacts/main-job under the repository.</summary>
    public string? Output { get; init; }

    /// <summary>Where the exported demo model and datastore are cached; null = .cache/demo under the repository.</summary>
    public string? Cache { get; init; }

    public const string Usage = """
        Rest.Onnx main job: plain greedy vs REST vs prompt lookup (vs onnxruntime-genai) on one engine.
        Usage: dotnet run -c Release --project Rest.Onnx.Bench [-- options]
               dotnet run -c Release --project Rest.Onnx.Bench -- bench [BenchmarkDotNet args]   (micro-benchmarks)
               dotnet run -c Release --project Rest.Onnx.Bench -- figures datastore [--tokens N]  (datastore build/query figures)
               dotnet run -c Release --project Rest.Onnx.Bench -- figures cost-curve [--rounds N] (1.1B-shaped step cost, for the projection)
        Options (all optional; defaults run the built-in demo):
          --model PATH          HF Llama checkpoint folder (exported on first use) or exported folder (rest-model.json)
          --datastore FILE      datastore to draft from (default: demo datastore, built on first use)
          --corpus PATH         extra *.py files/folders for the demo datastore (repeatable)
          --prompts FILE        JSONL with a "prompt" field per line (default: demo dev prompts)
          --prompt-count N      first N prompts only
          --max-new-tokens N    tokens per prompt (default 128)
          --strategies LIST     comma list of none,rest,promptlookup,hybrid,genai (default all)
          --budgets LIST        draft budgets to sweep; auto = chosen per step (default 4,8,16,32,64,auto)
          --no-history          skip the +history@auto configs (drafts from past outputs too)
          --repeat N            run the prompt list N times in a row (default 1)
          --draft-mode MODE     exact (all occurrences; default) | sampled (the reference: first k=5000 occurrences)
          --min-share X         drop draft nodes seen in under this share of the continuations (default 0 = reference)
          --ep cpu|cuda|auto    execution provider (default cpu)
          --threads N           intra-op threads (default: ONNX Runtime's choice)
          --warmup N            warm-up prompts (default 2)
          --out DIR             report folder (default artifacts/main-job)
          --cache DIR           cache folder for the exported model and datastore (default .cache/demo)
        """;

    /// <summary>Parses command-line arguments.</summary>
    /// <exception cref="ArgumentException">An unknown option or a bad value, named.</exception>
    public static MainJobOptions Parse(IReadOnlyList<string> args)
    {
        var o = new MainJobOptions();
        var extra = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value()
            {
                if (i + 1 >= args.Count) throw new ArgumentException($"Option {name} needs a value.");
                return args[++i];
            }
            int Int() => int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0
                ? v : throw new ArgumentException($"Option {name} needs a non-negative integer, got '{args[i]}'.");
            o = name switch
            {
                "--model" => o with { Model = Value() },
                "--datastore" => o with { Datastore = Value() },
                "--corpus" => AddCorpus(o, extra, Value()),
                "--prompts" => o with { Prompts = Value() },
                "--prompt-count" => o with { PromptCount = Int() },
                "--max-new-tokens" => o with { MaxNewTokens = Int() },
                "--strategies" => o with { Strategies = ParseStrategies(Value()) },
                "--budgets" => o with { Budgets = ParseBudgets(Value()) },
                "--no-history" => o with { History = false },
                "--repeat" => o with { Repeat = Math.Max(1, Int()) },
                "--draft-mode" => o with { DraftMode = Enum.TryParse<DraftMode>(Value(), true, out var m) ? m : throw new ArgumentException($"--draft-mode must be sampled or exact, got '{args[i]}'.") },
                "--min-share" => o with { MinShare = double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out var share) && share is >= 0 and <= 1 ? share : throw new ArgumentException($"--min-share needs a number in [0, 1], got '{args[i]}'.") },
                "--ep" => o with { ExecutionProvider = ParseProvider(Value()) },
                "--threads" => o with { Threads = Int() },
                "--warmup" => o with { Warmup = Int() },
                "--out" => o with { Output = Value() },
                "--cache" => o with { Cache = Value() },
                _ => throw new ArgumentException($"Unknown option '{name}'. Run with --help."),
            };
        }
        if (o.MaxNewTokens == 0) throw new ArgumentException("--max-new-tokens must be at least 1.");
        return o;
    }

    private static MainJobOptions AddCorpus(MainJobOptions o, List<string> extra, string path)
    {
        extra.Add(path);
        return o with { ExtraCorpus = [.. extra] };
    }

    private static string ParseProvider(string value) => value.ToLowerInvariant() switch
    {
        "cpu" or "cuda" or "auto" => value.ToLowerInvariant(),
        _ => throw new ArgumentException($"--ep must be cpu, cuda or auto, got '{value}'."),
    };

    private static string[] ParseStrategies(string value)
    {
        var known = new[] { "none", "rest", "promptlookup", "hybrid", "genai" };
        var list = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => s.ToLowerInvariant()).ToList();
        foreach (var s in list)
            if (!known.Contains(s)) throw new ArgumentException($"Unknown strategy '{s}'; known: {string.Join(", ", known)}.");
        if (!list.Contains("none")) list.Insert(0, "none");
        return [.. list.Distinct()];
    }

    private static int[] ParseBudgets(string value)
    {
        var budgets = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => s.Equals("auto", StringComparison.OrdinalIgnoreCase) ? DraftOptions.AutoBudget
                : int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var b) && b > 0
                ? b : throw new ArgumentException($"Budgets must be positive integers or 'auto', got '{s}'."))
            .Distinct().ToArray();
        return budgets.Length > 0 ? budgets : throw new ArgumentException("--budgets needs at least one value.");
    }
}
