using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rest.Onnx.Bench.Runtime;
using Rest.Onnx.Export;
using Rest.Onnx.Export.Tiny;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Bench.EndToEnd;

/// <summary>
/// <c>figures race</c>: our plain greedy (and prompt-lookup drafting) against onnxruntime-genai's greedy on the same
/// random weights, with equal pinned intra-op threads, the generator (ours and GenAI's) created outside the timed region,
/// and prefill and decode timed apart. Decode tokens/s counts one token per forward pass on both sides (GenAI's first
/// token comes out of its prefill pass, ours out of the first step, whose prefill stops one token short). Runs alternate
/// between the engines so drifting machine load hits both alike.
/// </summary>
internal static class EngineRace
{
    public const string Usage =
        "figures race [--shapes small,1b] [--dtypes fp32,int4] [--ours opset23,gqa] [--genai genai,genai-gqa] [--threads N] [--runs 3] " +
        "[--prompt-tokens 128] [--new-tokens 64] [--clock wall|cpu] [--json] [--out file.json]";

    public static int Run(string[] args, TextWriter log)
    {
        var shapes = new List<string> { "small", "1b" };
        ModelDType[] dtypes = [ModelDType.Float32, ModelDType.Int4];
        GraphVariant[] ours = [GraphVariant.Opset23, GraphVariant.Gqa];
        GraphVariant[] theirs = [GraphVariant.GenAI, GraphVariant.GenAIGqa];
        int threads = Environment.ProcessorCount, runs = 3, promptTokens = 128, newTokens = 64;
        var json = false;
        string? outFile = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"Option '{args[i]}' needs a value. Usage: {Usage}");
            switch (args[i])
            {
                case "--shapes": shapes = [.. Next().Split(',')]; break;
                case "--dtypes": dtypes = [.. Next().Split(',').Select(d => d == "int4" ? ModelDType.Int4 : d == "fp32" ? ModelDType.Float32 : throw new ArgumentException($"--dtypes takes fp32 and/or int4, got '{d}'."))]; break;
                case "--ours": ours = [.. Next().Split(',').Select(Variant)]; break;
                case "--genai": theirs = [.. Next().Split(',').Select(Variant)]; break;
                case "--threads": threads = Positive("--threads", Next()); break;
                case "--runs": runs = Positive("--runs", Next()); break;
                case "--prompt-tokens": promptTokens = Positive("--prompt-tokens", Next()); break;
                case "--new-tokens": newTokens = Positive("--new-tokens", Next()); break;
                case "--json": json = true; break;
                case "--clock": _cpuClock = Next() switch { "cpu" => true, "wall" => false, var c => throw new ArgumentException($"--clock takes cpu or wall, got '{c}'.") }; break;
                case "--out": outFile = Next(); break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'. Usage: {Usage}");
            }
        }

        var cacheRoot = Path.Combine(RepositoryPaths.Root, ".cache", "engine-figures");
        var results = new JsonArray();
        foreach (var shape in shapes)
        {
            var options = shape switch
            {
                "small" => BenchModel.Small with { MaxPositions = 8192 },
                "1b" => EngineFigures.TinyLlama1B,
                _ => throw new ArgumentException($"--shapes takes small and/or 1b, got '{shape}'."),
            };
            var hf = Path.Combine(cacheRoot, shape, "hf");
            if (!File.Exists(Path.Combine(hf, "config.json"))) TinyLlama.Write(hf, options);
            var random = new Random(11);
            var prompt = new int[promptTokens];
            for (var t = 0; t < prompt.Length; t++) prompt[t] = random.Next(3, options.VocabSize);
            foreach (var dtype in dtypes)
            {
                var engines = new List<Engine>();
                try
                {
                    OurEngine? last = null;
                    foreach (var v in ours) engines.Add(last = new OurEngine(Ensure(hf, cacheRoot, shape, dtype, v, log), threads, v));
                    // Prompt lookup on the same loaded model as the last variant's greedy (one copy of the weights in memory).
                    if (last is not null) engines.Add(new DraftingEngine(last, DraftingStrategy.PromptLookup, "prompt-lookup"));
                    foreach (var v in theirs)
                    {
                        try { engines.Add(new GenAiEngine(Ensure(hf, cacheRoot, shape, dtype, v, log), threads, v)); }
                        catch (Exception e) when (e is not OutOfMemoryException)
                        {
                            log.WriteLine($"onnxruntime-genai cannot run {shape} {Name(dtype)} {Name(v)}: {e.Message.Split('\n')[0]}");
                        }
                    }
                    foreach (var e in engines) e.Generate(prompt, Math.Min(8, newTokens)); // warm-up
                    var samples = engines.ToDictionary(e => e, _ => new List<(double Prefill, double Decode, int[] Tokens)>());
                    for (var run = 0; run < runs; run++)
                        foreach (var e in engines) samples[e].Add(e.Generate(prompt, newTokens));
                    var reference = samples[engines[0]][0].Tokens;
                    foreach (var e in engines)
                    {
                        var s = samples[e];
                        var entry = new JsonObject
                        {
                            ["shape"] = shape == "small" ? "small" : "tinyllama-1.1b",
                            ["dtype"] = Name(dtype),
                            ["engine"] = e.Name,
                            ["threads"] = threads,
                            ["promptTokens"] = promptTokens,
                            ["newTokens"] = newTokens,
                            ["prefillMs"] = new JsonArray([.. s.Select(x => (JsonNode)Math.Round(x.Prefill, 1))]),
                            ["decodeTokensPerSecond"] = new JsonArray([.. s.Select(x => (JsonNode)Math.Round(x.Decode, 2))]),
                            ["tokensEqualFirstEngine"] = s[0].Tokens.SequenceEqual(reference),
                        };
                        results.Add(entry);
                        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"{entry["shape"],-15} {Name(dtype),-5} {e.Name,-22} prefill ms {string.Join(" / ", s.Select(x => x.Prefill.ToString("F0", CultureInfo.InvariantCulture)))}" +
                            $"  decode tok/s {string.Join(" / ", s.Select(x => x.Decode.ToString("F2", CultureInfo.InvariantCulture)))}  same tokens {entry["tokensEqualFirstEngine"]}"));
                    }
                }
                finally
                {
                    foreach (var e in engines) e.Dispose();
                }
            }
        }
        var text = new JsonObject
        {
            ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["machine"] = $"{Environment.ProcessorCount} cores",
            ["clock"] = _cpuClock ? "process CPU time" : "wall",
            ["results"] = results,
        }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        if (outFile is not null) File.WriteAllText(outFile, text);
        if (json) Console.Out.WriteLine(text);
        return 0;
    }

    private static string Ensure(string hf, string cacheRoot, string shape, ModelDType dtype, GraphVariant variant, TextWriter log)
    {
        var folder = Path.Combine(cacheRoot, shape, $"{Name(dtype)}-{Name(variant)}");
        if (!File.Exists(Path.Combine(folder, ModelManifest.FileName)))
        {
            log.WriteLine($"exporting {shape} {Name(dtype)} {Name(variant)} to {folder}");
            LlamaExporter.Export(hf, folder, new ExportOptions { DType = dtype, Variant = variant });
        }
        return folder;
    }

    private static bool _cpuClock;

    /// <summary>Wall time, or the process's CPU time with <c>--clock cpu</c> (steadier on a shared machine; use --threads 1,
    /// since idle intra-op threads spin and would count).</summary>
    private static TimeSpan Clock() => _cpuClock ? TimeSpan.FromMilliseconds(Runtime.ProcessCpu.Milliseconds()) : Stopwatch.GetElapsedTime(0);

    private static GraphVariant Variant(string v) => v switch
    {
        "opset23" => GraphVariant.Opset23,
        "gqa" => GraphVariant.Gqa,
        "genai" => GraphVariant.GenAI,
        "genai-gqa" => GraphVariant.GenAIGqa,
        _ => throw new ArgumentException($"Unknown graph variant '{v}' (opset23, gqa, genai, genai-gqa)."),
    };

    private static string Name(ModelDType d) => d == ModelDType.Int4 ? "int4" : d == ModelDType.Float16 ? "fp16" : "fp32";

    private static string Name(GraphVariant v) => v switch
    {
        GraphVariant.Gqa => "gqa", GraphVariant.GenAI => "genai", GraphVariant.GenAIGqa => "genai-gqa", _ => "opset23",
    };

    private static int Positive(string option, string value)
        => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
            : throw new ArgumentException($"{option} expects a positive integer, got '{value}'.");

    private abstract class Engine : IDisposable
    {
        public abstract string Name { get; }

        /// <summary>Returns prefill ms, decode tokens/s and the tokens.</summary>
        public abstract (double Prefill, double Decode, int[] Tokens) Generate(int[] prompt, int newTokens);

        public abstract void Dispose();
    }

    private sealed class OurEngine : Engine
    {
        private readonly RestModel _model;

        public OurEngine(string folder, int threads, GraphVariant variant)
        {
            _model = RestModel.Load(folder, new ModelOptions { IntraOpThreads = threads, MaxSequenceLength = 1024 });
            Generator = _model.CreateGenerator();
            Variant = EngineRace.Name(variant);
            Name = $"rest.onnx {Variant} greedy";
        }

        public Generator Generator { get; }

        public string Variant { get; }

        public override string Name { get; }

        public override (double, double, int[]) Generate(int[] prompt, int newTokens) => Run(Generator, DraftingStrategy.None, prompt, newTokens);

        /// <summary>Through the step-wise API, so prefill (AppendTokens) and decode (the steps) are timed apart on <see cref="Clock"/>.</summary>
        public static (double, double, int[]) Run(Generator generator, DraftingStrategy drafting, int[] prompt, int newTokens)
        {
            using var run = generator.Start(new GenerationOptions { MaxNewTokens = newTokens, StopTokenIds = [], Drafting = drafting });
            var t0 = Clock();
            run.AppendTokens(prompt);
            var t1 = Clock();
            while (!run.IsDone) run.Step();
            var t2 = Clock();
            var tokens = run.NewTokens.ToArray();
            return ((t1 - t0).TotalMilliseconds, tokens.Length / (t2 - t1).TotalSeconds, tokens);
        }

        public override void Dispose()
        {
            Generator.Dispose();
            _model.Dispose();
        }
    }

    /// <summary>Another drafting strategy on an <see cref="OurEngine"/>'s generator (disposed with it).</summary>
    private sealed class DraftingEngine(OurEngine engine, DraftingStrategy drafting, string label) : Engine
    {
        public override string Name { get; } = $"rest.onnx {engine.Variant} {label}";

        public override (double, double, int[]) Generate(int[] prompt, int newTokens) => OurEngine.Run(engine.Generator, drafting, prompt, newTokens);

        public override void Dispose() { }
    }

    private sealed class GenAiEngine(string folder, int threads, GraphVariant variant) : Engine
    {
        private readonly GenAiBaseline _genAi = new(folder, threads);

        public override string Name { get; } = $"onnxruntime-genai {EngineRace.Name(variant)}";

        public override (double, double, int[]) Generate(int[] prompt, int newTokens)
        {
            var (tokens, prefill, decode) = _genAi.GenerateTimed(prompt, newTokens, new HashSet<int>(), Clock);
            return (prefill.TotalMilliseconds, (tokens.Length - 1) / decode.TotalSeconds, tokens);
        }

        public override void Dispose() => _genAi.Dispose();
    }
}
