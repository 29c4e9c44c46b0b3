using System.Globalization;
using System.Text;
using System.Text.Json;
using Rest.Onnx.Bench.EndToEnd;

namespace Rest.Onnx.Bench.Reporting;

/// <summary>Summarises the main job's runs and writes them as a console table, JSON, markdown and an SVG chart.</summary>
internal sealed class MainJobReport
{
    public required IReadOnlyDictionary<string, string> Setup { get; init; }
    public required IReadOnlyList<RunFigures> Runs { get; init; }

    /// <summary>Prompts run, left-truncated and skipped as too long for the model; null when not recorded.</summary>
    public PromptSelectionSummary? Prompts { get; init; }
    /// <summary>The 1.1B-shaped cost curve the projection column uses; null leaves the column empty.</summary>
    public EndToEnd.CostCurveFigures? Projection { get; init; }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public IReadOnlyList<ConfigSummary> Summaries => _summaries ??= Summarise();
    private IReadOnlyList<ConfigSummary>? _summaries;

    /// <summary>The fixed-budget config with the highest tokens/s for a strategy, or null when it did not run.</summary>
    public ConfigSummary? Best(string strategy)
        => Summaries.Where(s => s.Strategy == strategy && s.Budget > 0).OrderByDescending(s => s.TokensPerSecond).FirstOrDefault();

    private List<ConfigSummary> Summarise()
    {
        var baseline = Runs.Where(r => r.Config == "none").ToDictionary(r => r.PromptIndex);
        var baseTps = Tps(baseline.Values);
        var list = new List<ConfigSummary>();
        foreach (var group in Runs.GroupBy(r => r.Config))
        {
            var runs = group.ToList();
            var first = runs[0];
            var histogram = new long[runs.Max(r => r.AcceptedHistogram.Count)];
            foreach (var r in runs)
                for (var i = 0; i < r.AcceptedHistogram.Count; i++) histogram[i] += r.AcceptedHistogram[i];
            long steps = histogram.Sum(), accepted = 0;
            for (var i = 0; i < histogram.Length; i++) accepted += i * histogram[i];
            var tokens = runs.Sum(r => (long)r.NewTokens);
            var perPrompt = runs.Where(r => baseline.ContainsKey(r.PromptIndex) && r.WallSeconds > 0)
                .Select(r => baseline[r.PromptIndex].WallSeconds / r.WallSeconds).Order().ToList();
            var tps = Tps(runs);
            list.Add(new ConfigSummary(
                group.Key, first.Strategy, first.Budget, runs.Count, tokens, tps,
                DecodeTokensPerSecond: runs.Sum(r => r.DecodeSeconds) > 0 ? tokens / runs.Sum(r => r.DecodeSeconds) : 0,
                MeanAcceptedPerStep: steps > 0 ? (double)accepted / steps : double.NaN,
                Speedup: baseTps > 0 ? tps / baseTps : double.NaN,
                MedianPromptSpeedup: perPrompt.Count > 0 ? perPrompt[perPrompt.Count / 2] : double.NaN,
                PromptsEqualToNone: runs.Count(r => r.EqualsNone),
                AcceptedHistogram: histogram,
                DraftingMsPerToken: PerToken(runs, r => r.DraftingMs, tokens),
                ModelMsPerToken: PerToken(runs, r => r.ModelMs, tokens),
                AcceptanceMsPerToken: PerToken(runs, r => r.AcceptanceMs, tokens),
                CacheMsPerToken: PerToken(runs, r => r.CacheMs, tokens))
            {
                BookkeepingMsPerToken = PerToken(runs, r => r.BookkeepingMs, tokens),
                ProjectedSpeedup11B = Project(runs, baseline),
            });
        }
        return list;
    }

    /// <summary>Baseline steps at t(1) over these runs' steps at t(rows), both on the 1.1B-shaped curve, over the same prompts.</summary>
    private double Project(List<RunFigures> runs, Dictionary<int, RunFigures> baseline)
    {
        if (Projection is not { } curve || runs.Count == 0 || runs[0].Strategy == "genai") return double.NaN;
        double mine = 0, theirs = 0;
        foreach (var r in runs)
        {
            if (!baseline.TryGetValue(r.PromptIndex, out var none)) continue;
            theirs += none.Steps * curve.Ms(1);
            for (var rows = 1; rows < r.VerifiedRows.Count; rows++) mine += r.VerifiedRows[rows] * curve.Ms(rows);
        }
        return mine > 0 ? theirs / mine : double.NaN;
    }

    private static int LastNonZero(IReadOnlyList<long> values)
    {
        for (var i = values.Count - 1; i >= 0; i--)
            if (values[i] != 0) return i;
        return 0;
    }

    private static double Tps(IEnumerable<RunFigures> runs)
    {
        double tokens = 0, seconds = 0;
        foreach (var r in runs) { tokens += r.NewTokens; seconds += r.WallSeconds; }
        return seconds > 0 ? tokens / seconds : 0;
    }

    private static double PerToken(List<RunFigures> runs, Func<RunFigures, double> ms, long tokens)
        => tokens > 0 ? runs.Sum(ms) / tokens : 0;

    private static string F(double v, string format = "F2") => double.IsNaN(v) ? "-" : v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>The results table as markdown (also readable on a console).</summary>
    public string Table()
    {
        var sb = new StringBuilder();
        if (Prompts is not null) sb.AppendLine(Prompts.Describe()).AppendLine();
        sb.AppendLine("| strategy | budget | tokens/s | decode tokens/s | mean accepted tokens/step | speedup vs None | median per-prompt speedup | projected on a 1.1B-shaped model | equal to None | draft / model / accept / cache / bookkeeping ms per token |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var s in Summaries)
        {
            var budget = s.Budget == DraftOptions.AutoBudget ? "auto" : s.Budget <= 0 ? "-" : s.Strategy.EndsWith("-adaptive", StringComparison.Ordinal)
                ? $"adaptive ≤{s.Budget}" : s.Budget.ToString(CultureInfo.InvariantCulture);
            var split = s.Strategy == "genai" ? "-" : $"{F(s.DraftingMsPerToken, "F3")} / {F(s.ModelMsPerToken, "F3")} / {F(s.AcceptanceMsPerToken, "F3")} / {F(s.CacheMsPerToken, "F3")} / {F(s.BookkeepingMsPerToken, "F3")}";
            var projected = double.IsNaN(s.ProjectedSpeedup11B) ? "-" : $"{F(s.ProjectedSpeedup11B)}x";
            var accepted = s.Strategy == "genai" ? "-" : F(s.MeanAcceptedPerStep);
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {s.Strategy} | {budget} | {F(s.TokensPerSecond, "F1")} | {(s.Strategy == "genai" ? "-" : F(s.DecodeTokensPerSecond, "F1"))} | {accepted} | {F(s.Speedup)}x | {F(s.MedianPromptSpeedup)}x | {projected} | {s.PromptsEqualToNone}/{s.Prompts} | {split} |");
        }
        return sb.ToString();
    }

    /// <summary>Writes report.json, report.md and report.svg into <paramref name="folder"/>.</summary>
    public void Write(string folder)
    {
        Directory.CreateDirectory(folder);
        var json = new
        {
            setup = Setup,
            prompts = Prompts,
            summaries = Summaries,
            runs = Runs,
        };
        File.WriteAllText(Path.Combine(folder, "report.json"),
            JsonSerializer.Serialize(json, JsonOptions));
        File.WriteAllText(Path.Combine(folder, "report.md"), Markdown());
        File.WriteAllText(Path.Combine(folder, "report.svg"), Chart());
    }

    private string Markdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Rest.Onnx main job report").AppendLine();
        foreach (var (k, v) in Setup) sb.AppendLine(CultureInfo.InvariantCulture, $"- {k}: {v}");
        sb.AppendLine().AppendLine(Table());
        sb.AppendLine("Tokens/s is end to end per prompt (prefill + decoding, wall clock), summed over prompts; decode tokens/s leaves prefill out.");
        sb.AppendLine("Mean accepted tokens/step includes the model's own token (1.00 = no draft token accepted).");
        sb.AppendLine("\"Projected on a 1.1B-shaped model\" is a projection, not a measurement: these runs' verified rows per step priced by the step cost measured on a random-weight TinyLlama-1.1B-shaped model on this machine" +
            (Projection is { } p ? $" ({p.Description})" : " (not measured: run `figures cost-curve`)") + ", drafting and bookkeeping left out; the auto budget chose its trees under this model's costs, not that one's.").AppendLine();
        foreach (var strategy in new[] { "rest", "promptlookup", "hybrid" })
        {
            if (Best(strategy) is not { } best) continue;
            sb.AppendLine(CultureInfo.InvariantCulture, $"Best fixed budget for {strategy}: {best.Budget} ({F(best.Speedup)}x).");
        }
        sb.AppendLine().AppendLine("![speedup per prompt and accepted lengths](report.svg)");
        return sb.ToString();
    }

    private string Chart()
    {
        var panels = new List<SvgChart.Panel>();
        var prompts = Runs.Where(r => r.Config == "none").OrderBy(r => r.PromptIndex).ToList();
        var baseline = prompts.ToDictionary(r => r.PromptIndex);
        var bests = new[] { Best("rest"), Best("promptlookup"), Best("hybrid") }.Where(b => b is not null).Select(b => b!).ToList();
        var perPrompt = bests.Select(b => (Name: $"{b.Strategy} (budget {b.Budget})", Values: (IReadOnlyList<double>)prompts
            .Select(p => Runs.FirstOrDefault(r => r.Config == b.Config && r.PromptIndex == p.PromptIndex) is { WallSeconds: > 0 } r
                ? baseline[p.PromptIndex].WallSeconds / r.WallSeconds : 0).ToList())).ToList();
        if (Summaries.FirstOrDefault(s => s.Strategy == "genai") is { } genai)
            perPrompt.Add(("onnxruntime-genai", prompts.Select(p => Runs.FirstOrDefault(r => r.Config == genai.Config && r.PromptIndex == p.PromptIndex) is { WallSeconds: > 0 } r
                ? baseline[p.PromptIndex].WallSeconds / r.WallSeconds : 0).ToList()));
        panels.Add(new SvgChart.Panel("Speedup over plain greedy (None), per prompt", "speedup",
            prompts.Select(p => p.PromptIndex.ToString(CultureInfo.InvariantCulture)).ToList(), perPrompt, ReferenceLine: 1.0));

        // Up to the longest step any strategy actually made, so the axis is not mostly empty bins.
        var maxLen = bests.Count == 0 ? 1 : bests.Max(b => LastNonZero(b.AcceptedHistogram) + 1);
        panels.Add(new SvgChart.Panel("Tokens per verification step (share of steps)", "share of steps",
            Enumerable.Range(1, Math.Max(1, maxLen - 1)).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList(),
            bests.Select(b =>
            {
                var total = (double)Math.Max(1, b.AcceptedHistogram.Sum());
                return ($"{b.Strategy} (budget {b.Budget})", (IReadOnlyList<double>)Enumerable.Range(1, Math.Max(1, maxLen - 1))
                    .Select(i => i < b.AcceptedHistogram.Count ? b.AcceptedHistogram[i] / total : 0).ToList());
            }).ToList()));

        var fixedBudgets = Summaries.Where(s => s.Budget > 0 && s.Strategy is "rest" or "promptlookup" or "hybrid").ToList();
        var budgets = fixedBudgets.Select(s => s.Budget).Distinct().Order().ToList();
        if (budgets.Count > 0)
        {
            panels.Add(new SvgChart.Panel("Speedup vs draft budget (all prompts)", "speedup",
                budgets.Select(b => b.ToString(CultureInfo.InvariantCulture)).ToList(),
                fixedBudgets.GroupBy(s => s.Strategy).Select(g => (g.Key,
                    (IReadOnlyList<double>)budgets.Select(b => g.FirstOrDefault(s => s.Budget == b)?.Speedup ?? 0).ToList())).ToList(),
                ReferenceLine: 1.0));
        }
        return SvgChart.Render(panels);
    }
}
