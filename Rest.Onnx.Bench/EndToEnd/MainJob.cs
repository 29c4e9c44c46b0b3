using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Rest.Onnx.Bench.Reporting;
using Rest.Onnx.Datastore.Search;
using Rest.Onnx.DemoModel.Assets;
using Rest.Onnx.Export;
using Rest.Onnx.Tokenization;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Bench.EndToEnd;

/// <summary>
/// The main job: the same prompts decoded by plain greedy (None), REST, prompt lookup and hybrid drafting at
/// several draft budgets, and onnxruntime-genai, interleaved on one engine after a warm-up; every drafting
/// output is checked token for token against None.
/// </summary>
internal static class MainJob
{
    /// <returns>0 on success; 1 when any greedy output differs from None (a bug).</returns>
    public static int Run(MainJobOptions options, TextWriter log)
    {
        var (report, _) = Measure(options, log);
        var output = options.Output ?? RepositoryPaths.DefaultOutput;
        report.Write(output);
        log.WriteLine();
        log.WriteLine(report.Table());
        foreach (var strategy in new[] { "rest", "promptlookup", "hybrid" })
        {
            if (report.Best(strategy) is { } best)
                log.WriteLine($"Best fixed budget for {strategy} on this machine: {best.Budget} ({best.Speedup:F2}x over None, {best.MeanAcceptedPerStep:F2} tokens/step).");
            if (report.Summaries.FirstOrDefault(s => s.Config == $"{strategy}@auto") is { } auto)
                log.WriteLine($"{strategy}@auto: {auto.Speedup:F2}x over None, {auto.MeanAcceptedPerStep:F2} tokens/step.");
        }
        log.WriteLine($"Reports: {Path.Combine(output, "report.md")}, report.json, report.svg");
        if (ReportMismatches(report.Runs)) return 1;
        if (report.Runs.Any(r => r.Strategy == "genai" && !r.EqualsNone))
            log.WriteLine("Note: onnxruntime-genai's greedy tokens differ from ours on some prompts (different kernels can flip near-ties); see report.json.");
        return 0;
    }

    /// <summary>Names every greedy drafting output that differs from None on stderr (a bug); true when there was one.</summary>
    public static bool ReportMismatches(IReadOnlyList<RunFigures> runs)
    {
        var mismatches = runs.Where(r => !r.EqualsNone && r.Strategy != "genai").ToList();
        if (mismatches.Count == 0) return false;
        Console.Error.WriteLine();
        Console.Error.WriteLine($"BUG: {mismatches.Count} greedy drafting outputs differ from plain greedy decoding (None):");
        foreach (var m in mismatches.Take(20)) Console.Error.WriteLine($"  prompt {m.PromptIndex} ({m.PromptLabel}), {m.Config}");
        return true;
    }

    /// <summary>Runs every config on every prompt (the main job without its report files); also returns the prompts as run.</summary>
    public static (MainJobReport Report, IReadOnlyList<PromptPlan> Prompts) Measure(MainJobOptions options, TextWriter log)
    {
        var cache = options.Cache ?? RepositoryPaths.DefaultCache;
        var modelPath = options.Model ?? RepositoryPaths.DemoCheckpoint;
        Directory.CreateDirectory(cache);

        var exported = DemoAssets.EnsureExported(modelPath, cache, options.Variant, log)!;
        // Both engines run on the same pinned intra-op threads, so the outside baseline races like for like.
        var threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
        var wantsGenAi = options.Strategies.Contains("genai");
        var genAiFolder = wantsGenAi ? DemoAssets.EnsureExported(modelPath, cache, GraphVariant.GenAI, log) : null;
        if (wantsGenAi && genAiFolder is null)
            log.WriteLine("Skipping onnxruntime-genai: --model is an exported folder, so there is no checkpoint to export its variant from.");

        var prompts = PromptSet.Load(options.Prompts ?? RepositoryPaths.DemoPrompts, options.PromptCount);
        var provider = options.ExecutionProvider switch
        {
            "cuda" => ExecutionProvider.Cuda(),
            "auto" => ExecutionProvider.Auto,
            _ => ExecutionProvider.Cpu,
        };

        // Tokenize once with the model's tokenizer so every engine sees identical ids.
        TextTokenizer tokenizer;
        IReadOnlyList<PromptPlan> plans;
        PromptSelectionSummary selection;
        int? bos;
        int maxLength;
        using (var probe = RestModel.Load(exported, new ModelOptions { ExecutionProvider = ExecutionProvider.Cpu }))
        {
            tokenizer = probe.Tokenizer ?? throw new InvalidOperationException($"The model in '{exported}' has no tokenizer.model; the main job needs one to encode prompts.");
            bos = probe.AddsBosToText ? probe.Manifest.BosTokenId : null;
            var encoded = prompts.Select(p => (p.Label, (bos is { } b ? new[] { b } : []).Concat(tokenizer.Encode(p.Prompt)).ToArray())).ToList();
            var positions = probe.Manifest.MaxPositions;
            // A prompt that does not fit is skipped (or left-truncated), named here and counted in the report.
            plans = PromptFit.Select(encoded, positions, options.MaxNewTokens, options.TruncatePrompts, keepFirst: bos is not null);
            foreach (var plan in plans)
                if (PromptFit.Describe(plan, positions, options.MaxNewTokens) is { } line) log.WriteLine(line);
            selection = PromptFit.Summarise(plans, positions, options.MaxNewTokens, options.TruncatePrompts);
            log.WriteLine(selection.Describe());
            plans = plans.Where(p => p.Fate != PromptFate.Skipped).ToList();
            var longest = plans.Max(p => p.Ids.Length);
            // Room for the longest prompt, its new tokens and a full draft tree, within the model's positions
            // (the engine trims draft trees that would run past the end).
            maxLength = (int)Math.Min(positions, (long)longest + options.MaxNewTokens + MaxNodes(options.Budgets) + 1);
        }

        var datastorePath = options.Datastore ?? (options.LargeDatastore
            ? DemoAssets.EnsureLargeDatastore(log)
            : DemoAssets.EnsureDemoDatastore(cache, tokenizer, options.ExtraCorpus, log));
        using var model = RestModel.Load(exported, new ModelOptions
        {
            ExecutionProvider = provider,
            MaxSequenceLength = maxLength,
            IntraOpThreads = threads,
            Log = log,
        });
        using var datastore = model.OpenDatastore(datastorePath);
        using var generator = model.CreateGenerator();
        using var genAi = genAiFolder is null ? null : new GenAiBaseline(genAiFolder, threads);
        var stopIds = model.Manifest.EosTokenIds.ToHashSet();

        var configs = BuildConfigs(options, datastore);
        var setup = new Dictionary<string, string>
        {
            ["date (UTC)"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
            ["machine"] = $"{Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.ProcessArchitecture}",
            [".NET"] = RuntimeInformation.FrameworkDescription,
            ["execution provider"] = model.ExecutionProviderInUse.ToString(),
            ["intra-op threads"] = $"{threads}, pinned on both engines (ours and onnxruntime-genai; inter-op 1)",
            ["model"] = $"{modelPath} ({model.Manifest.NumLayers} layers, {model.Manifest.NumKvHeads} kv heads x {model.Manifest.HeadSize}, vocab {model.Manifest.VocabSize}, {model.Manifest.Dtype}, {model.Manifest.GraphVariant} graph)",
            ["datastore"] = $"{datastorePath} ({datastore.TokenCount:N0} tokens)",
            ["prompts"] = $"{selection.Run} of {prompts.Count} from {options.Prompts ?? RepositoryPaths.DemoPrompts} ({selection.Truncated} left-truncated, {selection.Skipped} skipped as too long), {options.MaxNewTokens} new tokens each, greedy, {(bos is null ? "no BOS" : "BOS first")}",
            ["draft"] = $"mode {options.DraftMode}, min share {options.MinShare}, budgets {string.Join(",", options.Budgets.Select(Label))}{(options.History ? " (+history at auto)" : "")}, suffix 16..2, k 5000, continuation 10",
            ["warm-up prompts"] = options.Warmup.ToString(CultureInfo.InvariantCulture),
            ["repeat"] = options.Repeat.ToString(CultureInfo.InvariantCulture),
        };
        var projection = CostCurveFigures.TryLoad(cache);
        if (projection is not null) setup["projection"] = projection.Description;
        foreach (var (k, v) in setup) log.WriteLine($"{k}: {v}");

        // Warm-up: every config on the first prompts, results discarded.
        for (var p = 0; p < Math.Min(options.Warmup, plans.Count); p++)
        {
            foreach (var config in configs) RunOne(generator, config, plans[p].Ids, options.MaxNewTokens);
            genAi?.Generate(plans[p].Ids, options.MaxNewTokens, stopIds);
        }
        // The history configs start the measured runs with empty stores (the warm-up prompts are measured again).
        foreach (var config in configs) config.Options.History?.Clear();
        PrintCostCurve(model, [.. plans.Select(p => p.Ids)], log);

        var runs = new List<RunFigures>();
        var total = Stopwatch.StartNew();
        var passes = plans.Count * options.Repeat;
        for (var q = 0; q < passes; q++)
        {
            // Runs keep the prompt's index in the prompts file (skipped prompts leave gaps, not shifts); a repeated pass
            // continues after the file's last index so every run has its own.
            var plan = plans[q % plans.Count];
            var pass = q / plans.Count;
            var (p, label, ids) = (plan.Index + pass * prompts.Count, pass == 0 ? plan.Label : $"{plan.Label} (pass {pass + 1})", plan.Ids);
            var results = new Dictionary<string, (GenerationResult Result, double Wall)>();
            (int[] Tokens, TimeSpan Elapsed)? outside = null;
            // Rotate the order per prompt (onnxruntime-genai takes its turn in it) so slow drift of the machine favours no one.
            var slots = configs.Count + (genAi is null ? 0 : 1);
            for (var c = 0; c < slots; c++)
            {
                var slot = (c + q) % slots;
                if (slot == configs.Count) outside = genAi!.Generate(ids, options.MaxNewTokens, stopIds);
                else results[configs[slot].Name] = RunOne(generator, configs[slot], ids, options.MaxNewTokens);
            }
            var none = results["none"].Result.Tokens;
            foreach (var config in configs)
            {
                var (result, wall) = results[config.Name];
                runs.Add(Figures(p, label, config, ids.Length, result, wall, none));
            }
            if (outside is var (tokens, elapsed))
            {
                var trimmed = tokens.Length > 0 && stopIds.Contains(tokens[^1]) ? tokens[..^1] : tokens;
                runs.Add(new RunFigures(p, label, "genai", "genai", 0, ids.Length, trimmed.Length, elapsed.TotalSeconds,
                    elapsed.TotalSeconds, trimmed.Length, double.NaN, [], 0, 0, 0, 0, trimmed.SequenceEqual(none), trimmed));
            }
            log.WriteLine($"prompt {q + 1}/{passes} (#{p}, {label}): " + string.Join(", ",
                configs.Select(c => $"{c.Name} {results[c.Name].Result.Statistics.MeanAcceptedTokensPerStep:F2} tok/step")));
        }
        log.WriteLine($"Measured runs took {total.Elapsed.TotalSeconds:F0} s.");
        PrintCostCurve(model, [.. plans.Select(p => p.Ids)], log);
        CompareWithBare(model, [.. plans.Select(p => p.Ids)], log);

        return (new MainJobReport { Setup = setup, Prompts = selection, Runs = runs, Projection = projection }, plans);
    }

    private sealed record RunConfig(string Name, string Strategy, int Budget, GenerationOptions Options);

    private static string Label(int budget) => budget == DraftOptions.AutoBudget ? "auto" : budget.ToString(CultureInfo.InvariantCulture);

    /// <summary>Most draft nodes any budget may verify (auto: the candidate cap).</summary>
    private static int MaxNodes(IReadOnlyList<int> budgets) => budgets.Max(b => b == DraftOptions.AutoBudget ? DraftOptions.Default.MaxCandidates : b);

    private static List<RunConfig> BuildConfigs(MainJobOptions options, RestDatastore datastore)
    {
        var baseOptions = new GenerationOptions { MaxNewTokens = options.MaxNewTokens, AddBos = false };
        var configs = new List<RunConfig> { new("none", "none", 0, baseOptions) };
        var strategies = new List<(string Name, DraftingStrategy Strategy)>();
        if (options.Strategies.Contains("rest")) strategies.Add(("rest", DraftingStrategy.Rest(datastore)));
        if (options.Strategies.Contains("promptlookup")) strategies.Add(("promptlookup", DraftingStrategy.PromptLookup));
        if (options.Strategies.Contains("hybrid")) strategies.Add(("hybrid", DraftingStrategy.Hybrid(datastore)));
        foreach (var budget in options.Budgets)
        {
            var draft = new DraftOptions { Budget = budget, Mode = options.DraftMode, MinShare = options.MinShare };
            foreach (var (name, strategy) in strategies)
                configs.Add(new($"{name}@{Label(budget)}", name, budget, baseOptions with { Drafting = strategy, Draft = draft }));
        }
        if (options.History && options.Budgets.Contains(DraftOptions.AutoBudget))
        {
            // Each history config drafts from its own store of the outputs it produced before (a model's store
            // would also see the other configs' identical outputs of the same prompt).
            var draft = new DraftOptions { Budget = DraftOptions.AutoBudget, Mode = options.DraftMode, MinShare = options.MinShare };
            foreach (var (name, strategy) in strategies)
                configs.Add(new($"{name}+history@auto", $"{name}+history", DraftOptions.AutoBudget, baseOptions with
                {
                    Drafting = strategy, Draft = draft, DraftFromHistory = true, History = new TokenHistory(ModelOptions.DefaultHistoryTokens),
                }));
        }
        // The runtime's adaptive budget (halve after rejections, double after deep accepts) up to the largest fixed budget.
        if (options.Adaptive && options.Budgets.Any(b => b > 0))
        {
            var adaptive = new DraftOptions { Budget = options.Budgets.Max(), Mode = options.DraftMode, MinShare = options.MinShare };
            if (options.Strategies.Contains("rest"))
                configs.Add(new("rest@adaptive", "rest-adaptive", adaptive.Budget, baseOptions with { Drafting = DraftingStrategy.Rest(datastore), Draft = adaptive, AdaptiveBudget = true }));
            if (options.Strategies.Contains("promptlookup"))
                configs.Add(new("promptlookup@adaptive", "promptlookup-adaptive", adaptive.Budget, baseOptions with { Drafting = DraftingStrategy.PromptLookup, Draft = adaptive, AdaptiveBudget = true }));
        }
        return configs;
    }

    /// <summary>Prints the step-cost curve the engine learned (calibration plus the warm-up's steps) at the prompts' typical cached length.</summary>
    private static void PrintCostCurve(RestModel model, List<int[]> promptIds, TextWriter log)
    {
        var cached = (int)promptIds.Average(p => p.Length);
        if (model.StepCosts.Curve(cached).IsEmpty) return;
        var one = model.StepCosts.Estimate(1, cached);
        int[] rows = [1, 2, 3, 4, 5, 6, 8, 12, 16, 24, 32, 48, 64];
        log.WriteLine($"Learned step cost at ~{cached} cached positions, t(rows) / t(1) with t(1) = {one * 1e3:F2} ms " +
            $"(trimmed mean of recent steps; {model.StepCosts.Samples} steps measured): " +
            string.Join(", ", rows.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r}: {model.StepCosts.Estimate(r, cached) / one:F2}"))));
    }

    /// <summary>
    /// The learned in-place step cost beside a bare ONNX Runtime run of the same rows (tensors bound once, the run alone
    /// timed) at the prompts' typical cached length, measured now in this process: what the engine adds per step in place.
    /// </summary>
    private static void CompareWithBare(RestModel model, List<int[]> promptIds, TextWriter log)
    {
        var cached = (int)promptIds.Average(p => p.Length);
        int[] rows = [1, 2, 4, 8, 16, 32, 64];
        var maxRows = Math.Min(rows[^1], model.MaxSequenceLength - cached - 1);
        using var bare = new Runtime.BareRun(model, cached, maxRows);
        var tree = new DraftTree(maxRows);
        var parts = new List<string>();
        foreach (var r in rows.Where(r => r <= maxRows))
        {
            Runtime.BenchModel.FillTree(tree, r - 1, new Random(r), model.Manifest.VocabSize);
            bare.Prepare(tree, 5, cached);
            var times = new double[15];
            bare.Time(false);
            for (var i = 0; i < times.Length; i++) times[i] = bare.Time(false);
            Array.Sort(times);
            var learned = model.StepCosts.Estimate(r, cached) * 1e3;
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{r}: {learned:F3} / {times[7]:F3} = {learned / times[7]:F2}"));
        }
        log.WriteLine($"Step cost at ~{cached} cached positions, learned in place / bare ONNX Runtime now (ms, median of 15): " + string.Join(", ", parts));
    }

    private static (GenerationResult Result, double Wall) RunOne(Generator generator, RunConfig config, int[] ids, int maxNewTokens)
    {
        var start = Stopwatch.GetTimestamp();
        var result = generator.Generate(ids, config.Options);
        return (result, Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    private static RunFigures Figures(int prompt, string label, RunConfig config, int promptTokens, GenerationResult result, double wall, IReadOnlyList<int> none)
    {
        var s = result.Statistics;
        return new RunFigures(prompt, label, config.Name, config.Strategy, config.Budget, promptTokens, result.Tokens.Count, wall,
            s.DecodeTime.TotalSeconds, s.VerificationSteps, s.MeanAcceptedTokensPerStep, [.. s.AcceptedLengthHistogram],
            s.DraftingTime.TotalMilliseconds, s.ModelTime.TotalMilliseconds, s.AcceptanceTime.TotalMilliseconds,
            s.CacheUpdateTime.TotalMilliseconds, result.Tokens.SequenceEqual(none), [.. result.Tokens])
        {
            VerifiedRows = [.. s.VerifiedRowsHistogram],
            BookkeepingMs = s.BookkeepingTime.TotalMilliseconds,
            CalibrationMs = s.CalibrationTime.TotalMilliseconds,
        };
    }
}
