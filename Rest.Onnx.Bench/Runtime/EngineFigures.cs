using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using Rest.Onnx.Bench.EndToEnd;
using Rest.Onnx.Execution;
using Rest.Onnx.Export;
using Rest.Onnx.Export.Tiny;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Bench.Runtime;

/// <summary>
/// <c>figures engine [--json] [--shapes small,1b] [--threads N] [--reps N]</c>: plain-stopwatch forward-pass figures of
/// the engine's own buffers (IOBinding, the generator's KV cache layout) for <see cref="BenchModel.Small"/> and a
/// TinyLlama-1.1B shape (random weights), in fp32 and int4 and for each runtime graph variant: the greedy step (one row)
/// at 128, 1,024 and 4,096 cached tokens, and the verification cost ratio t(rows) / t(1) at 1,024 cached tokens.
/// The cache is marked as holding n tokens without prefilling them (<see cref="KvCache.PretendCached"/>): a step's
/// cost does not depend on the cached values, and prefilling 4,096 tokens of a 1B model would dominate the run.
/// Exports are cached under .cache/engine-figures/.
/// </summary>
internal static class EngineFigures
{
    private static readonly int[] RowCounts = [1, 2, 4, 8, 16, 32, 64];
    private const int RowsContext = 1024;
    private const int MaxRows = 64;

    /// <summary>TinyLlama-1.1B's shape: 22 layers, hidden 2048, 32 heads, 4 KV heads, MLP 5632, vocabulary 32000.</summary>
    public static readonly TinyLlamaOptions TinyLlama1B = new TinyLlamaOptions() with
    {
        Layers = 22, HiddenSize = 2048, Heads = 32, KvHeads = 4, IntermediateSize = 5632, VocabSize = 32000, MaxPositions = 8192, Seed = 4,
    };

    /// <summary>Runs the figures; the command line is <see cref="Commands.FiguresEngineCommand"/>.</summary>
    public static int Run(EngineFiguresOptions o, TextWriter log)
    {
        int blockSize = o.BlockSize, accuracyLevel = o.AccuracyLevel, threads = o.Threads;
        var cache = Path.Combine(RepositoryPaths.Root, ".cache", "engine-figures");
        var results = new JsonArray();
        foreach (var shape in o.Shapes)
        {
            var (options, repetitions) = shape == "small" ? (BenchModel.Small with { MaxPositions = 8192 }, o.Reps ?? 15) : (TinyLlama1B, o.Reps ?? 3);
            var hf = Path.Combine(cache, shape, "hf");
            if (!File.Exists(Path.Combine(hf, "config.json")))
            {
                log.WriteLine($"writing random {shape} checkpoint to {hf}");
                TinyLlama.Write(hf, options);
            }
            foreach (var dtype in o.DTypes)
            {
                var folders = new List<string>();
                foreach (var variant in o.Variants)
                {
                    var suffix = dtype == ModelDType.Int4 && (blockSize != ExportOptions.DefaultInt4BlockSize || accuracyLevel != 0)
                        ? $"-b{blockSize}-a{accuracyLevel}" : "";
                    var folder = Path.Combine(cache, shape, $"{Name(dtype)}-{Name(variant)}{suffix}");
                    if (!File.Exists(Path.Combine(folder, ModelManifest.FileName)))
                    {
                        log.WriteLine($"exporting {shape} {Name(dtype)} {Name(variant)}{suffix} to {folder}");
                        LlamaExporter.Export(hf, folder, new ExportOptions
                        {
                            DType = dtype, Variant = variant, Int4BlockSize = blockSize, Int4AccuracyLevel = accuracyLevel,
                        });
                    }
                    folders.Add(folder);
                }
                if (o.PrepareOnly) continue;
                // The variants of one dtype are measured interleaved (run by run), so drifting machine load hits them alike.
                var entries = Measure(shape == "small" ? "small" : "tinyllama-1.1b", folders, threads, repetitions, o.Contexts, o.CpuClock);
                for (var v = 0; v < entries.Count; v++)
                {
                    if (shape == "small" && o.Generate) entries[v]["generation4096"] = GenerateToLimit(folders[v], threads, log);
                    results.Add(entries[v]);
                    log.WriteLine(Describe(entries[v]));
                }
            }
        }
        var document = new JsonObject
        {
            ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}",
            ["threads"] = threads,
            ["clock"] = o.CpuClock ? "process CPU time (all threads; robust to a shared machine's scheduling)" : "wall",
            ["rowsContext"] = RowsContext,
            ["shapes"] = results,
        };
        var text = document.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        if (o.Out is not null) File.WriteAllText(o.Out, text);
        if (o.Json) Console.Out.WriteLine(text);
        return 0;
    }

    private sealed class Subject(RestModel model, KvCache cache, ForwardPass pass, string folder) : IDisposable
    {
        public RestModel Model { get; } = model;
        public KvCache Cache { get; } = cache;
        public ForwardPass Pass { get; } = pass;
        public string Folder { get; } = folder;

        public void Dispose()
        {
            Pass.Dispose();
            Cache.Dispose();
            Model.Dispose();
        }
    }

    private static List<JsonObject> Measure(string name, List<string> folders, int threads, int reps, IReadOnlyList<int> contexts, bool cpuClock)
    {
        var subjects = new List<Subject>();
        using var runOptions = new RunOptions();
        try
        {
            foreach (var folder in folders)
            {
                var model = RestModel.Load(folder, new ModelOptions { MaxSequenceLength = contexts.Max() + MaxRows, IntraOpThreads = threads });
                var cache = KvCache.For(model.Backend, model.Manifest, model.MaxSequenceLength);
                subjects.Add(new Subject(model, cache, new ForwardPass(model.Session, model.Manifest, model.Backend, cache, MaxRows), folder));
            }
            var vocabulary = subjects[0].Model.Manifest.VocabSize;
            var tree = new DraftTree(MaxRows - 1);

            // Median over reps of one forward pass at (context, rows), for every subject, runs interleaved.
            double[] Time(int context, int rows)
            {
                BenchModel.FillTree(tree, rows - 1, new Random(2), vocabulary);
                foreach (var s in subjects) s.Cache.PretendCached(context);
                var samples = new double[subjects.Count][];
                for (var i = 0; i < subjects.Count; i++) samples[i] = new double[reps];
                for (var r = -1; r < reps; r++) // one warm-up run each
                    for (var i = 0; i < subjects.Count; i++)
                    {
                        var pass = subjects[i].Pass;
                        VerificationBatch.Fill(tree, 5, context, pass.InputIds(rows), pass.PositionIds(rows), pass.Mask(rows));
                        var start = Stopwatch.GetTimestamp();
                        var cpuStart = cpuClock ? ProcessCpu.Milliseconds() : 0;
                        pass.Run(rows, runOptions);
                        var ms = cpuClock ? ProcessCpu.Milliseconds() - cpuStart : Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                        if (r >= 0) samples[i][r] = ms;
                    }
                return [.. samples.Select(x => { Array.Sort(x); return x[reps / 2]; })];
            }

            var greedy = subjects.Select(_ => new JsonObject()).ToArray();
            foreach (var context in contexts.Order())
            {
                var t = Time(context, 1);
                for (var i = 0; i < subjects.Count; i++) greedy[i][context.ToString(CultureInfo.InvariantCulture)] = Math.Round(t[i], 3);
            }
            var ratios = subjects.Select(_ => new JsonObject()).ToArray();
            var stepMs = subjects.Select(_ => new JsonObject()).ToArray();
            var one = Time(RowsContext, 1);
            foreach (var rows in RowCounts)
            {
                var t = rows == 1 ? one : Time(RowsContext, rows);
                for (var i = 0; i < subjects.Count; i++)
                {
                    ratios[i][rows.ToString(CultureInfo.InvariantCulture)] = Math.Round(t[i] / one[i], 3);
                    stepMs[i][rows.ToString(CultureInfo.InvariantCulture)] = Math.Round(t[i], 3);
                }
            }
            return [.. subjects.Select((s, i) => new JsonObject
            {
                ["name"] = name,
                ["dtype"] = Name(s.Model.Manifest.Dtype),
                ["variant"] = Name(s.Model.Manifest.GraphVariant),
                ["greedyStepMs"] = greedy[i],
                ["rowsCostRatio"] = ratios[i],
                ["rowsStepMs"] = stepMs[i],
                ["kvCacheMiB"] = Math.Round(s.Cache.TotalBytes / 1048576.0, 1),
                ["weightsMiB"] = Math.Round(Directory.GetFiles(s.Folder, "model.onnx*").Sum(f => new FileInfo(f).Length) / 1048576.0, 1),
                ["reps"] = reps,
            })];
        }
        finally
        {
            foreach (var s in subjects) s.Dispose();
        }
    }

    /// <summary>
    /// A real greedy generation from a 16-token prompt to a 4,096-token sequence: it runs inside the KV bytes the generator
    /// allocated at creation (the cache never grows) and reports the managed bytes allocated per step.
    /// </summary>
    private static JsonObject GenerateToLimit(string folder, int threads, TextWriter log)
    {
        const int Length = 4096;
        using var model = RestModel.Load(folder, new ModelOptions { MaxSequenceLength = Length, IntraOpThreads = threads });
        using var generator = model.CreateGenerator();
        var prompt = Enumerable.Range(0, 16).Select(i => 3 + i * 37 % (model.Manifest.VocabSize - 3)).ToArray();
        var options = new GenerationOptions { MaxNewTokens = Length, StopTokenIds = [] };
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var result = generator.Generate(prompt, options);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        var s = result.Statistics;
        var entry = new JsonObject
        {
            ["kvCacheBytes"] = generator.KvCacheBytes,
            ["sequenceLength"] = prompt.Length + result.Tokens.Count,
            ["stopReason"] = result.StopReason.ToString(),
            ["decodeSeconds"] = Math.Round(s.DecodeTime.TotalSeconds, 2),
            ["tokensPerSecond"] = Math.Round(s.TokensPerSecond, 1),
            ["managedBytesPerStep"] = allocated / Math.Max(1, s.VerificationSteps),
        };
        log.WriteLine($"  generation to {entry["sequenceLength"]} tokens ({entry["stopReason"]}): KV {generator.KvCacheBytes / 1048576.0:F1} MiB, " +
                      $"{entry["tokensPerSecond"]} tokens/s, {entry["managedBytesPerStep"]} managed bytes per step");
        return entry;
    }

    private static string Describe(JsonObject e)
    {
        var g = e["greedyStepMs"]!.AsObject();
        var r = e["rowsCostRatio"]!.AsObject();
        var head = string.Create(CultureInfo.InvariantCulture,
            $"{e["name"],-15} {e["dtype"],-5} {e["variant"],-8} step ms ") + string.Join(" ", g.Select(kv => $"@{kv.Key} {kv.Value}")) + " | ratio rows ";
        return head + string.Join(" ", r.Select(kv => $"{kv.Key}:{kv.Value}")) + $" | KV {e["kvCacheMiB"]} MiB";
    }

    private static string Name(ModelDType d) => d switch { ModelDType.Float32 => "fp32", ModelDType.Float16 => "fp16", _ => "int4" };

    private static string Name(GraphVariant v) => v switch { GraphVariant.Gqa => "gqa", GraphVariant.GenAI => "genai", _ => "opset23" };
}

/// <summary>Options of <c>figures engine</c>; the defaults are the full run. The command line is <see cref="Commands.FiguresEngineCommand"/>.</summary>
internal sealed record EngineFiguresOptions
{
    /// <summary>"small" (<see cref="BenchModel.Small"/>) and/or "1b" (<see cref="EngineFigures.TinyLlama1B"/>).</summary>
    public IReadOnlyList<string> Shapes { get; init; } = ["small", "1b"];

    public IReadOnlyList<ModelDType> DTypes { get; init; } = [ModelDType.Float32, ModelDType.Int4];

    public IReadOnlyList<GraphVariant> Variants { get; init; } = [GraphVariant.Opset23, GraphVariant.Gqa];

    /// <summary>Intra-op threads.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Timed runs per figure (the median is reported); null = 15 for the small shape, 3 for the 1B shape.</summary>
    public int? Reps { get; init; }

    /// <summary>Cached lengths of the greedy-step figure (the largest sizes the models' sequence length).</summary>
    public IReadOnlyList<int> Contexts { get; init; } = [128, 1024, 4096];

    /// <summary>Times with the process's CPU time instead of the wall clock.</summary>
    public bool CpuClock { get; init; }

    public int BlockSize { get; init; } = ExportOptions.DefaultInt4BlockSize;

    /// <summary>MatMulNBits accuracy_level of the int4 exports (0: float compute, 4: int8 activations).</summary>
    public int AccuracyLevel { get; init; }

    /// <summary>Exports the models and stops.</summary>
    public bool PrepareOnly { get; init; }

    /// <summary>The small shape's real greedy generation to 4,096 tokens.</summary>
    public bool Generate { get; init; } = true;

    /// <summary>Prints the JSON document to stdout.</summary>
    public bool Json { get; init; }

    /// <summary>Writes the JSON document to this file.</summary>
    public string? Out { get; init; }
}

/// <summary>
/// The process's CPU time (CLOCK_PROCESS_CPUTIME_ID, nanosecond resolution, Linux): on a machine shared by many jobs a
/// forward pass's CPU time is far steadier than its wall time, which mostly measures the scheduler.
/// </summary>
internal static partial class ProcessCpu
{
    private const int ClockProcessCpuTimeId = 2;

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    public static double Milliseconds()
    {
        if (!OperatingSystem.IsLinux()) return Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;
        if (ClockGetTime(ClockProcessCpuTimeId, out var t) != 0) throw new InvalidOperationException("clock_gettime failed.");
        return t.Seconds * 1e3 + t.Nanoseconds / 1e6;
    }
}
