using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rest.Onnx.Bench.EndToEnd;
using Rest.Onnx.DemoModel.Assets;
using Rest.Onnx.Execution;
using Rest.Onnx.Export;
using Rest.Onnx.Export.Tiny;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Bench.Runtime;

/// <summary>
/// <c>figures step-overhead</c>: what the engine's verification step costs beside a bare ONNX Runtime run of the same
/// graph and rows. For each model (the demo model, <see cref="BenchModel.Small"/>), graph variant, cached length and row
/// count, in one process and interleaved rep by rep: (a) <c>RunWithBinding</c> over tensors created and bound once, with
/// the same tree mask; (b) one real <see cref="Generator"/> step (a fixed draft tree of rows - 1 nodes whose leftmost chain
/// is the model's greedy continuation, so a realistic path is accepted and the KV cache is compacted), split by the
/// generator's own timestamps (<see cref="StepPhases"/>) into position ids, mask, binding, run, logits read-back,
/// acceptance and KV compaction; then the sequence is rewound so every rep runs at the same cached length.
/// </summary>
internal static class StepOverheadFigures
{
    /// <summary>Runs the figures; the command line is <see cref="Commands.FiguresStepOverheadCommand"/>.</summary>
    public static int Run(StepOverheadOptions o, TextWriter log)
    {
        var results = new JsonArray();
        var table = new StringBuilder();
        table.AppendLine("| model | variant | cached | rows | bare ORT ms | engine step ms | engine / bare | ids+pos / mask / bind / run / read-back / accept / commit µs |");
        table.AppendLine("|---|---|---:|---:|---:|---:|---:|---|");
        foreach (var name in o.Models)
        {
            foreach (var variant in o.Variants)
            {
                var folder = Prepare(name, variant, log);
                foreach (var entry in Measure(name, folder, o, log))
                {
                    results.Add(entry);
                    table.AppendLine(Row(entry));
                }
            }
        }
        var document = new JsonObject
        {
            ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}",
            ["threads"] = o.Threads,
            ["clock"] = o.CpuClock ? "process CPU time of the bare run and of the whole engine step (phases: wall)" : "wall",
            ["reps"] = o.Reps,
            ["results"] = results,
        };
        log.WriteLine();
        log.Write(table.ToString());
        if (o.Out is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(o.Out))!);
            File.WriteAllText(o.Out, document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            log.WriteLine($"Wrote {o.Out}.");
        }
        if (o.Json) Console.Out.WriteLine(document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    /// <summary>The exported folder of a model and variant: the demo checkpoint's export, or BenchModel.Small's random weights.</summary>
    private static string Prepare(string name, GraphVariant variant, TextWriter log)
    {
        if (name == "demo") return DemoAssets.EnsureExported(RepositoryPaths.DemoCheckpoint, RepositoryPaths.DefaultCache, variant, log)!;
        var cache = Path.Combine(RepositoryPaths.Root, ".cache", "step-overhead");
        var hf = Path.Combine(cache, "small-hf");
        if (!File.Exists(Path.Combine(hf, "config.json"))) TinyLlama.Write(hf, BenchModel.Small);
        var folder = Path.Combine(cache, $"small-{variant.ToString().ToLowerInvariant()}");
        if (!File.Exists(Path.Combine(folder, ModelManifest.FileName)))
        {
            log.WriteLine($"exporting BenchModel.Small ({variant}) to {folder}");
            LlamaExporter.Export(hf, folder, new ExportOptions { Variant = variant });
        }
        return folder;
    }

    private static List<JsonObject> Measure(string name, string folder, StepOverheadOptions o, TextWriter log)
    {
        var maxRows = o.Rows.Max();
        var positions = ModelManifest.Load(Path.Combine(folder, ModelManifest.FileName)).MaxPositions;
        // A cached length the model's positions cannot hold with the largest tree (the demo model has 1,024) is lowered to fit.
        var contexts = o.Contexts.Select(c => Math.Min(c, positions - maxRows - 16)).Distinct().Order().ToArray();
        var maxContext = contexts.Max();
        using var model = RestModel.Load(folder, new ModelOptions
        {
            MaxSequenceLength = Math.Min(positions, maxContext + maxRows + 16), IntraOpThreads = o.Threads, Log = TextWriter.Null,
        });
        using var generator = model.CreateGenerator();
        using var bare = new BareRun(model, maxContext, maxRows);
        var config = model.Manifest;
        var source = new FixedTreeSource(maxRows);
        var results = new List<JsonObject>();
        foreach (var context in contexts)
        {
            var random = new Random(7 + context);
            var prompt = new int[context + 1];
            for (var i = 0; i < prompt.Length; i++) prompt[i] = random.Next(3, config.VocabSize);
            // The model's own greedy continuation: the tree's leftmost chain, so each step accepts a realistic path.
            var greedy = generator.Generate(prompt, new GenerationOptions { MaxNewTokens = 8, StopTokenIds = [] }).Tokens;
            foreach (var rows in o.Rows)
            {
                source.Build(rows - 1, greedy, random, config.VocabSize);
                var options = new GenerationOptions
                {
                    MaxNewTokens = 1 << 20, StopTokenIds = [],
                    Drafting = rows == 1 ? DraftingStrategy.None : DraftingStrategy.Custom(source),
                    Draft = new DraftOptions { Budget = Math.Max(1, rows - 1) },
                };
                var state = generator.Begin(options, CancellationToken.None);
                try
                {
                    generator.Append(state, prompt);
                    bare.Prepare(source.Tree(rows - 1), prompt[^1], context);
                    var bareMs = new double[o.Reps];
                    var stepMs = new double[o.Reps];
                    var phases = new StepPhases[o.Reps];
                    for (var rep = -3; rep < o.Reps; rep++) // three warm-up reps
                    {
                        var bareFirst = (rep & 1) == 0;
                        if (bareFirst) bareMs[Math.Max(rep, 0)] = bare.Time(o.CpuClock);
                        var start = Stopwatch.GetTimestamp();
                        var cpuStart = o.CpuClock ? ProcessCpu.Milliseconds() : 0;
                        generator.Step(state);
                        var ms = o.CpuClock ? ProcessCpu.Milliseconds() - cpuStart : Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                        var p = generator.LastStepPhases;
                        if (p.Rows != rows) throw new InvalidOperationException($"The step verified {p.Rows} rows, not {rows}.");
                        generator.Rewind(state, prompt.Length);
                        if (!bareFirst) bareMs[Math.Max(rep, 0)] = bare.Time(o.CpuClock);
                        if (rep < 0) continue;
                        phases[rep] = p;
                        stepMs[rep] = o.CpuClock ? ms : Ms(p.Verification);
                    }
                    var entry = Summarise(name, config, context, rows, bareMs, stepMs, phases);
                    results.Add(entry);
                    log.WriteLine(Row(entry));
                }
                finally
                {
                    generator.End(state);
                }
            }
        }
        return results;
    }

    private static JsonObject Summarise(string name, ModelManifest config, int context, int rows, double[] bare, double[] step,
        StepPhases[] phases)
    {
        double Median(Func<StepPhases, long> f) => MedianOf([.. phases.Select(p => Ms(f(p)) * 1e3)]);
        var bareMedian = MedianOf(bare);
        var stepMedian = MedianOf(step);
        return new JsonObject
        {
            ["model"] = name,
            ["variant"] = config.GraphVariant.ToString().ToLowerInvariant(),
            ["cached"] = context,
            ["rows"] = rows,
            ["bareMs"] = Math.Round(bareMedian, 4),
            ["engineStepMs"] = Math.Round(stepMedian, 4),
            ["engineOverBare"] = Math.Round(stepMedian / bareMedian, 3),
            ["phasesUs"] = new JsonObject
            {
                ["inputs"] = Math.Round(Median(p => p.Inputs), 2),
                ["mask"] = Math.Round(Median(p => p.Mask), 2),
                ["bind"] = Math.Round(Median(p => p.Bind), 2),
                ["run"] = Math.Round(Median(p => p.Run), 2),
                ["readback"] = Math.Round(Median(p => p.Readback), 2),
                ["accept"] = Math.Round(Median(p => p.Accept), 2),
                ["commit"] = Math.Round(Median(p => p.Commit), 2),
                ["draft"] = Math.Round(Median(p => p.Draft), 2),
                ["select"] = Math.Round(Median(p => p.Select), 2),
                ["bookkeeping"] = Math.Round(Median(p => p.Bookkeeping), 2),
            },
        };
    }

    private static string Row(JsonObject e)
    {
        var p = e["phasesUs"]!.AsObject();
        string F(string k) => ((double)p[k]!).ToString("F1", CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture,
            $"| {e["model"]} | {e["variant"]} | {e["cached"]} | {e["rows"]} | {(double)e["bareMs"]!:F3} | {(double)e["engineStepMs"]!:F3} | {(double)e["engineOverBare"]!:F2} | ") +
            $"{F("inputs")} / {F("mask")} / {F("bind")} / {F("run")} / {F("readback")} / {F("accept")} / {F("commit")} |";
    }

    private static double Ms(long ticks) => ticks * 1e3 / Stopwatch.Frequency;

    private static double MedianOf(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Drafts the same prepared tree every step (a binary heap whose leftmost chain is the greedy continuation).</summary>
    private sealed class FixedTreeSource(int maxNodes) : IDraftSource
    {
        private readonly DraftTree _tree = new(Math.Max(1, maxNodes));

        public void Build(int nodes, IReadOnlyList<int> greedy, Random random, int vocabulary)
        {
            _tree.Clear();
            for (var i = 0; i < nodes; i++)
            {
                var parent = i == 0 ? -1 : (i - 1) / 2;
                // Node i lies on the leftmost chain when i + 1 is a power of two; its depth is then log2(i + 1) + 1.
                var leftmost = ((i + 1) & i) == 0;
                var depth = leftmost ? System.Numerics.BitOperations.Log2((uint)(i + 1)) : -1;
                _tree.Add(leftmost && depth < greedy.Count ? greedy[depth] : random.Next(3, vocabulary), parent);
            }
        }

        public DraftTree Tree(int nodes) => nodes == _tree.Count ? _tree : throw new InvalidOperationException("Build the tree first.");

        public void Draft(ReadOnlySpan<int> context, DraftTree destination)
        {
            destination.Clear();
            var tokens = _tree.Tokens;
            var parents = _tree.Parents;
            for (var i = 0; i < tokens.Length && i < destination.Capacity; i++) destination.Add(tokens[i], parents[i]);
        }
    }
}

/// <summary>Options of <c>figures step-overhead</c>; the defaults are the full run. The command line is <see cref="Commands.FiguresStepOverheadCommand"/>.</summary>
internal sealed record StepOverheadOptions
{
    /// <summary>"demo" (the demo checkpoint) and/or "small" (<see cref="BenchModel.Small"/>, random weights).</summary>
    public IReadOnlyList<string> Models { get; init; } = ["demo", "small"];

    public IReadOnlyList<GraphVariant> Variants { get; init; } = [GraphVariant.Opset23, GraphVariant.Gqa];

    public IReadOnlyList<int> Contexts { get; init; } = [128, 1024];

    public IReadOnlyList<int> Rows { get; init; } = [1, 2, 4, 8, 16, 32, 64];

    /// <summary>Timed reps per figure (after three warm-up reps); medians are reported.</summary>
    public int Reps { get; init; } = 41;

    /// <summary>Intra-op threads of both sides.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Times the bare run and the whole engine step with the process's CPU time.</summary>
    public bool CpuClock { get; init; }

    public string? Out { get; init; }

    public bool Json { get; init; }
}
