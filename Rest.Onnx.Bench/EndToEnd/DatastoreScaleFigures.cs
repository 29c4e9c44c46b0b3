using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Rest.Onnx.Bench.Datastore;
using Rest.Onnx.Bench.Reporting;
using Rest.Onnx.Datastore.Reading;
using Rest.Onnx.Datastore.Search;
using Rest.Onnx.DemoModel;
using Rest.Onnx.DemoModel.Assets;
using Rest.Onnx.DemoModel.Corpus;
using Rest.Onnx.DemoModel.Corpus.Large;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Bench.EndToEnd;

/// <summary>Options of <c>figures datastore-scale</c>.</summary>
internal sealed record DatastoreScaleOptions
{
    /// <summary>Store sizes in tokens: nested prefixes of the large corpus.</summary>
    public IReadOnlyList<long> Sizes { get; init; } = [1_000_000, 3_000_000, 10_000_000, 30_000_000, 100_000_000];

    /// <summary>Also the standard-library store (the main job's default) as a reference row.</summary>
    public bool Small { get; init; } = true;

    /// <summary>Prompt sets: context (164, 256 new tokens) and/or short (80, 128 new tokens).</summary>
    public IReadOnlyList<string> PromptSets { get; init; } = ["context", "short"];

    /// <summary>First N prompts of each set (0 = all).</summary>
    public int PromptCount { get; init; }

    /// <summary>New tokens per prompt in every set (0 = the set's own: context 256, short 128).</summary>
    public int MaxNewTokens { get; init; }

    public IReadOnlyList<int> Budgets { get; init; } = [64, DraftOptions.AutoBudget];

    public int Warmup { get; init; } = 2;

    /// <summary>Report folder; null = artifacts/datastore-scale.</summary>
    public string? Output { get; init; }
}

/// <summary>One store of the figure and what drafting from it did.</summary>
/// <param name="Build">How the store was built (null when its build left no figures).</param>
internal sealed record ScaleRow(string Store, long Tokens, long Documents, long FileBytes, StoreBuildFigures? Build,
    double OpenMs, double DraftP50Ms, double DraftP99Ms, int DraftSteps, IReadOnlyList<ScaleResult> Results);

/// <summary>One config on one prompt set.</summary>
internal sealed record ScaleResult(string PromptSet, string Config, double MeanAcceptedPerStep, double Speedup, double TokensPerSecond, int Prompts, int EqualToNone);

/// <summary>
/// <c>figures datastore-scale</c>: the REST paper's datastore-size figure on the demo model. Nested prefixes of the
/// large corpus (cut from its store at document boundaries, each built once and cached beside it) and the
/// standard-library store; for each, the main job's engine (<see cref="MainJob.Measure"/>) runs plain greedy, REST
/// and hybrid at budget 64 and auto on the context and short prompts (each store read through once first, so it is
/// in the page cache), and the draft step is timed on the contexts greedy decoding went through. Every drafting
/// output must equal greedy (else exit 1).
/// </summary>
internal static class DatastoreScaleFigures
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static int Run(DatastoreScaleOptions options, TextWriter log)
    {
        var output = options.Output ?? Path.Combine(RepositoryPaths.Root, "artifacts", "datastore-scale");
        Directory.CreateDirectory(output);
        var tokenizer = TextTokenizer.Load(DemoModelPaths.Tokenizer);
        var large = DemoAssets.EnsureLargeDatastore(log);
        var manifest = LargeCorpus.TryReadManifest(RepositoryPaths.LargeCache);

        var stores = new List<(string Name, string Path, StoreBuildFigures? Build)>();
        if (options.Small)
        {
            var path = DemoAssets.EnsureDemoDatastore(RepositoryPaths.DefaultCache, tokenizer, [], log);
            stores.Add(("stdlib (small)", path, StoreBuildFigures.TryRead(path)));
        }
        using (var source = DatastoreReader.Open(large))
        {
            // The large store is the shortest prefix of its order holding its target, so any size from the target up is all of it.
            var whole = Math.Min(source.TokenCount, manifest?.TokensTarget ?? long.MaxValue);
            foreach (var size in options.Sizes.Order())
            {
                if (size >= whole)
                {
                    stores.Add((Label(source.TokenCount), large, StoreBuildFigures.TryRead(large) ?? (manifest is { Store: var m }
                        ? new StoreBuildFigures(m.Tokens, m.BuildSeconds, m.SuffixArraySeconds, m.PeakMemoryBytes) : null)));
                    continue;
                }
                var path = Path.Combine(RepositoryPaths.LargeCache, $"prefix-{size}.restds");
                if (StoreBuildFigures.TryRead(path) is not { } build || File.GetLastWriteTimeUtc(path) < File.GetLastWriteTimeUtc(large))
                    build = StoreBuildFigures.Measure(path, log, $"prefix {Label(size)}", size, progress => StorePrefix.Build(source, size, path, progress)).Figures;
                stores.Add((Label(size), path, build));
            }
        }

        var rows = new List<ScaleRow>();
        var mismatch = false;
        foreach (var (name, path, build) in stores)
        {
            log.WriteLine($"== {name}: {path}");
            // Every size starts from the page cache: a store not read lately (here a 30M prefix had 48 KB of 172 MB
            // cached) pays disk reads in its first prompts' drafts, counted as drafting time. Verify reads every byte
            // and checks the checksums on the way.
            var read = Stopwatch.StartNew();
            using (var store = DatastoreReader.Open(path)) store.Verify();
            log.WriteLine($"read and verified in {read.Elapsed.TotalSeconds:F1} s");
            var results = new List<ScaleResult>();
            var contexts = new List<int[]>();
            foreach (var set in options.PromptSets)
            {
                var (prompts, setTokens) = set == "context" ? (DemoModelPaths.ContextDevPrompts, 256) : (DemoModelPaths.DevPrompts, 128);
                var newTokens = options.MaxNewTokens > 0 ? options.MaxNewTokens : setTokens;
                var (report, plans) = MainJob.Measure(new MainJobOptions
                {
                    Datastore = path,
                    Prompts = prompts,
                    PromptCount = options.PromptCount,
                    MaxNewTokens = newTokens,
                    Strategies = ["none", "rest", "hybrid"],
                    Budgets = options.Budgets,
                    History = false,
                    Adaptive = false,
                    Warmup = options.Warmup,
                }, log);
                mismatch |= MainJob.ReportMismatches(report.Runs);
                foreach (var s in report.Summaries.Where(s => s.Config != "none"))
                    results.Add(new ScaleResult(set, s.Config, s.MeanAcceptedPerStep, s.Speedup, s.TokensPerSecond, s.Prompts, s.PromptsEqualToNone));
                contexts.AddRange(DraftContexts(report, plans));
            }
            using var reader = DatastoreReader.Open(path);
            var (p50, p99) = TimeDrafts(reader, contexts);
            rows.Add(new ScaleRow(name, reader.TokenCount, reader.Shards.Sum(s => s.DocumentCount), reader.FileLength, build,
                LargeCorpus.OpenMilliseconds(path), p50, p99, contexts.Count, results));
            log.WriteLine(Table(rows));
            Write(output, rows, options, manifest);
        }
        log.WriteLine(Table(rows));
        log.WriteLine($"Reports: {Path.Combine(output, "report.md")}, report.json, report.svg");
        return mismatch ? 1 : 0;
    }

    /// <summary>The contexts greedy decoding went through: each prompt plus every 4th prefix of its greedy output.</summary>
    private static IEnumerable<int[]> DraftContexts(MainJobReport report, IReadOnlyList<PromptPlan> plans)
    {
        var byIndex = plans.ToDictionary(p => p.Index);
        foreach (var run in report.Runs.Where(r => r.Config == "none"))
        {
            if (!byIndex.TryGetValue(run.PromptIndex, out var plan)) continue;
            int[] full = [.. plan.Ids, .. run.Tokens];
            for (var t = 0; t <= run.Tokens.Count; t += 4) yield return full[..(plan.Ids.Length + t)];
        }
    }

    /// <summary>Median and 99th percentile (ms) of one draft step (exact counting, budget 64), after a warm-up pass.</summary>
    private static (double P50, double P99) TimeDrafts(DatastoreReader reader, List<int[]> contexts)
    {
        if (contexts.Count == 0) return (double.NaN, double.NaN);
        var searcher = new DatastoreSearcher(reader, DraftOptions.Default with { Budget = 64, Mode = DraftMode.Exact });
        var tree = new DraftTree(64);
        foreach (var c in contexts) searcher.BuildDraft(c, tree);
        var times = new double[contexts.Count];
        for (var i = 0; i < contexts.Count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            searcher.BuildDraft(contexts[i], tree);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return (times[times.Length / 2], times[Math.Min(times.Length - 1, (int)(times.Length * 0.99))]);
    }

    private static string Label(long tokens) => tokens >= 1_000_000
        ? string.Create(CultureInfo.InvariantCulture, $"{tokens / 1e6:0.#}M")
        : string.Create(CultureInfo.InvariantCulture, $"{tokens / 1e3:0.#}k");

    private static string F(double v, string format = "F2") => double.IsNaN(v) ? "-" : v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>The markdown table: one row per store, MAT and speedup per prompt set and config.</summary>
    public static string Table(IReadOnlyList<ScaleRow> rows)
    {
        var columns = rows.SelectMany(r => r.Results).Select(r => (r.PromptSet, r.Config)).Distinct().ToList();
        var sb = new StringBuilder();
        sb.Append("| store | tokens | size on disk | build s (M tokens/s; suffix array M tokens/s; peak GiB) | open ms | draft p50 / p99 ms |");
        foreach (var (set, config) in columns) sb.Append(CultureInfo.InvariantCulture, $" {set}: {config} MAT, speedup |");
        sb.AppendLine().Append("|---|---:|---:|---:|---:|---:|");
        foreach (var _ in columns) sb.Append("---:|");
        sb.AppendLine();
        foreach (var r in rows)
        {
            var build = r.Build is not { } b ? "-"
                : $"{F(b.Seconds, "F1")} ({F(b.TokensPerSecond / 1e6)}; {F(b.SuffixArrayTokensPerSecond / 1e6)}; {F(b.PeakMemoryBytes / 1073741824.0)})";
            sb.Append(CultureInfo.InvariantCulture,
                $"| {r.Store} | {r.Tokens:N0} | {r.FileBytes / 1048576.0:F0} MiB | {build} | {F(r.OpenMs, "F3")} | {F(r.DraftP50Ms, "F3")} / {F(r.DraftP99Ms, "F3")} |");
            foreach (var (set, config) in columns)
            {
                var x = r.Results.FirstOrDefault(x => x.PromptSet == set && x.Config == config);
                sb.Append(x is null ? " - |" : $" {F(x.MeanAcceptedPerStep)}, {F(x.Speedup)}x{(x.EqualToNone == x.Prompts ? "" : $" ({x.EqualToNone}/{x.Prompts} equal!)")} |");
            }
            sb.AppendLine();
        }
        return sb.ToString();
    }

    private static void Write(string folder, IReadOnlyList<ScaleRow> rows, DatastoreScaleOptions options, LargeCorpusManifest? manifest)
    {
        var setup = new Dictionary<string, string>
        {
            ["date (UTC)"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
            ["machine"] = $"{Environment.ProcessorCount} logical cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
            ["prompts"] = $"{string.Join(", ", options.PromptSets)} ({(options.PromptCount == 0 ? "all" : $"first {options.PromptCount}")}); " +
                (options.MaxNewTokens > 0 ? $"{options.MaxNewTokens} new tokens each" : "context: 256 new tokens, short: 128"),
            ["budgets"] = string.Join(",", options.Budgets.Select(b => b == DraftOptions.AutoBudget ? "auto" : b.ToString(CultureInfo.InvariantCulture))),
            ["draft step"] = "DatastoreSearcher.BuildDraft, exact counting, budget 64, on the prompts and every 4th prefix of their greedy outputs",
            ["large corpus"] = manifest is null ? "-" : $"{manifest.Packages.Count} Debian packages, {manifest.KeptFiles:N0} files kept of {manifest.CandidateFiles:N0}, built {manifest.Created}",
        };
        File.WriteAllText(Path.Combine(folder, "report.json"), JsonSerializer.Serialize(new { setup, rows }, s_json));
        var md = new StringBuilder("# Datastore scale: MAT and speedup by datastore size\n\n");
        foreach (var (k, v) in setup) md.AppendLine(CultureInfo.InvariantCulture, $"- {k}: {v}");
        md.AppendLine().AppendLine(Table(rows)).AppendLine("MAT: mean accepted tokens per verification step (the model's own token included); speedup: tokens/s over plain greedy on the same prompts, same run.")
            .AppendLine().AppendLine("![MAT and speedup by datastore size](report.svg)");
        File.WriteAllText(Path.Combine(folder, "report.md"), md.ToString());
        var categories = rows.Select(r => r.Store).ToList();
        var panels = new List<SvgChart.Panel>();
        foreach (var set in options.PromptSets)
        {
            var configs = rows.SelectMany(r => r.Results).Where(x => x.PromptSet == set).Select(x => x.Config).Distinct().ToList();
            IReadOnlyList<double> Series(string config, Func<ScaleResult, double> value)
                => rows.Select(r => r.Results.FirstOrDefault(x => x.PromptSet == set && x.Config == config) is { } x ? value(x) : 0).ToList();
            panels.Add(new SvgChart.Panel($"Mean accepted tokens per step by datastore size ({set} prompts)", "tokens/step", categories,
                [.. configs.Select(c => (c, Series(c, x => x.MeanAcceptedPerStep)))], ReferenceLine: 1.0));
            panels.Add(new SvgChart.Panel($"Speedup over plain greedy by datastore size ({set} prompts)", "speedup", categories,
                [.. configs.Select(c => (c, Series(c, x => x.Speedup)))], ReferenceLine: 1.0));
        }
        panels.Add(new SvgChart.Panel("Draft step (exact, budget 64) by datastore size", "ms", categories,
            [("p50", rows.Select(r => r.DraftP50Ms).ToList()), ("p99", rows.Select(r => r.DraftP99Ms).ToList())]));
        File.WriteAllText(Path.Combine(folder, "report.svg"), SvgChart.Render(panels));
    }
}
