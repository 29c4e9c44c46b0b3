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
    private static int[] _contexts = [128, 1024, 4096];
    private static readonly int[] RowCounts = [1, 2, 4, 8, 16, 32, 64];
    private const int RowsContext = 1024;
    private const int MaxRows = 64;

    /// <summary>TinyLlama-1.1B's shape: 22 layers, hidden 2048, 32 heads, 4 KV heads, MLP 5632, vocabulary 32000.</summary>
    public static readonly TinyLlamaOptions TinyLlama1B = new TinyLlamaOptions() with
    {
        Layers = 22, HiddenSize = 2048, Heads = 32, KvHeads = 4, IntermediateSize = 5632, VocabSize = 32000, MaxPositions = 8192, Seed = 4,
    };

    public const string Usage = "figures engine [--json] [--shapes small,1b] [--dtypes fp32,int4] [--variants opset23,gqa] [--threads N (default: all cores)] [--reps N] [--contexts 128,1024,4096] [--out file.json] [--prepare-only]";

    public static int Run(string[] args, TextWriter log)
    {
        var json = false;
        var prepareOnly = false;
        var shapes = new List<string> { "small", "1b" };
        var threads = Environment.ProcessorCount;
        int? reps = null;
        string? outFile = null;
        GraphVariant[] variants = [GraphVariant.Opset23, GraphVariant.Gqa];
        ModelDType[] dtypes = [ModelDType.Float32, ModelDType.Int4];
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"Option '{args[i]}' needs a value. Usage: {Usage}");
            switch (args[i])
            {
                case "--json": json = true; break;
                case "--prepare-only": prepareOnly = true; break;
                case "--shapes": shapes = [.. Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]; break;
                case "--threads": threads = PositiveInt("--threads", Next()); break;
                case "--reps": reps = PositiveInt("--reps", Next()); break;
                case "--out": outFile = Next(); break;
                case "--contexts": _contexts = [.. Next().Split(',').Select(c => PositiveInt("--contexts", c)).Order()]; break;
                case "--variants": variants = [.. Next().Split(',').Select(v => v == "gqa" ? GraphVariant.Gqa : GraphVariant.Opset23)]; break;
                case "--dtypes": dtypes = [.. Next().Split(',').Select(v => v == "int4" ? ModelDType.Int4 : ModelDType.Float32)]; break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'. Usage: {Usage}");
            }
        }
        foreach (var s in shapes)
            if (s is not ("small" or "1b")) throw new ArgumentException($"--shapes takes small and/or 1b, got '{s}'.");

        var cache = Path.Combine(RepositoryPaths.Root, ".cache", "engine-figures");
        var results = new JsonArray();
        foreach (var shape in shapes)
        {
            var (options, repetitions) = shape == "small" ? (BenchModel.Small with { MaxPositions = 8192 }, reps ?? 15) : (TinyLlama1B, reps ?? 3);
            var hf = Path.Combine(cache, shape, "hf");
            if (!File.Exists(Path.Combine(hf, "config.json")))
            {
                log.WriteLine($"writing random {shape} checkpoint to {hf}");
                TinyLlama.Write(hf, options);
            }
            foreach (var dtype in dtypes)
                foreach (var variant in variants)
                {
                    var folder = Path.Combine(cache, shape, $"{Name(dtype)}-{Name(variant)}");
                    if (!File.Exists(Path.Combine(folder, ModelManifest.FileName)))
                    {
                        log.WriteLine($"exporting {shape} {Name(dtype)} {Name(variant)} to {folder}");
                        LlamaExporter.Export(hf, folder, new ExportOptions { DType = dtype, Variant = variant });
                    }
                    if (prepareOnly) continue;
                    var entry = Measure(shape == "small" ? "small" : "tinyllama-1.1b", folder, threads, repetitions, log);
                    results.Add(entry);
                    log.WriteLine(Describe(entry));
                }
        }
        var document = new JsonObject
        {
            ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["machine"] = $"{Environment.ProcessorCount} cores, {Environment.OSVersion}",
            ["threads"] = threads,
            ["rowsContext"] = RowsContext,
            ["shapes"] = results,
        };
        var text = document.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        if (outFile is not null) File.WriteAllText(outFile, text);
        if (json) Console.Out.WriteLine(text);
        return 0;
    }

    private static JsonObject Measure(string name, string folder, int threads, int reps, TextWriter log)
    {
        using var model = RestModel.Load(folder, new ModelOptions { MaxSequenceLength = _contexts[^1] + MaxRows, IntraOpThreads = threads });
        var config = model.Manifest;
        using var cache = KvCache.For(model.Backend, config, model.MaxSequenceLength);
        using var pass = new ForwardPass(model.Session, config, model.Backend, cache, MaxRows);
        using var runOptions = new RunOptions();
        var tree = new DraftTree(MaxRows - 1);
        var random = new Random(2);

        double Time(int context, int rows)
        {
            cache.PretendCached(context);
            BenchModel.FillTree(tree, rows - 1, random, config.VocabSize);
            var samples = new double[reps];
            for (var r = -1; r < reps; r++) // one warm-up run
            {
                VerificationBatch.Fill(tree, 5, context, pass.InputIds(rows), pass.PositionIds(rows), pass.Mask(rows));
                var start = Stopwatch.GetTimestamp();
                pass.Run(rows, runOptions);
                var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (r >= 0) samples[r] = ms;
            }
            Array.Sort(samples);
            return samples[reps / 2];
        }

        var greedy = new JsonObject();
        foreach (var context in _contexts) greedy[context.ToString(CultureInfo.InvariantCulture)] = Math.Round(Time(context, 1), 3);
        var ratios = new JsonObject();
        var stepMs = new JsonObject();
        var one = Time(RowsContext, 1);
        foreach (var rows in RowCounts)
        {
            var t = rows == 1 ? one : Time(RowsContext, rows);
            ratios[rows.ToString(CultureInfo.InvariantCulture)] = Math.Round(t / one, 3);
            stepMs[rows.ToString(CultureInfo.InvariantCulture)] = Math.Round(t, 3);
        }
        return new JsonObject
        {
            ["name"] = name,
            ["dtype"] = Name(config.Dtype),
            ["variant"] = Name(config.GraphVariant),
            ["greedyStepMs"] = greedy,
            ["rowsCostRatio"] = ratios,
            ["rowsStepMs"] = stepMs,
            ["kvCacheMiB"] = Math.Round(cache.TotalBytes / 1048576.0, 1),
            ["weightsMiB"] = Math.Round(Directory.GetFiles(folder, "model.onnx*").Sum(f => new FileInfo(f).Length) / 1048576.0, 1),
            ["reps"] = reps,
        };
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

    private static int PositiveInt(string option, string value)
        => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
            : throw new ArgumentException($"{option} expects a positive integer, got '{value}'.");
}
