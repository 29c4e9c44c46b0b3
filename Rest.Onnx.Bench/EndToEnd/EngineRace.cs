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
    /// <summary>Runs the race; the command line is <see cref="Commands.FiguresRaceCommand"/>.</summary>
    public static int Run(EngineRaceOptions o, TextWriter log)
    {
        int threads = o.Threads, runs = o.Runs, promptTokens = o.PromptTokens, newTokens = o.NewTokens;
        _cpuClock = o.CpuClock;
        var cacheRoot = Path.Combine(RepositoryPaths.Root, ".cache", "engine-figures");
        var results = new JsonArray();
        foreach (var shape in o.Shapes)
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
            foreach (var dtype in o.DTypes)
            {
                var engines = new List<Engine>();
                try
                {
                    OurEngine? last = null;
                    foreach (var v in o.Ours) engines.Add(last = new OurEngine(Ensure(hf, cacheRoot, shape, dtype, v, log), threads, v));
                    // Prompt lookup on the same loaded model as the last variant's greedy (one copy of the weights in memory).
                    if (last is not null) engines.Add(new DraftingEngine(last, DraftingStrategy.PromptLookup, "prompt-lookup"));
                    foreach (var v in o.GenAI)
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
        if (o.Out is not null) File.WriteAllText(o.Out, text);
        if (o.Json) Console.Out.WriteLine(text);
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

    private static string Name(ModelDType d) => d == ModelDType.Int4 ? "int4" : d == ModelDType.Float16 ? "fp16" : "fp32";

    private static string Name(GraphVariant v) => v switch
    {
        GraphVariant.Gqa => "gqa", GraphVariant.GenAI => "genai", GraphVariant.GenAIGqa => "genai-gqa", _ => "opset23",
    };

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

/// <summary>Options of <c>figures race</c>; the defaults are the full run. The command line is <see cref="Commands.FiguresRaceCommand"/>.</summary>
internal sealed record EngineRaceOptions
{
    /// <summary>"small" (<see cref="BenchModel.Small"/>) and/or "1b" (<see cref="EngineFigures.TinyLlama1B"/>).</summary>
    public IReadOnlyList<string> Shapes { get; init; } = ["small", "1b"];

    public IReadOnlyList<ModelDType> DTypes { get; init; } = [ModelDType.Float32, ModelDType.Int4];

    /// <summary>Our engine's graph variants (opset23, gqa).</summary>
    public IReadOnlyList<GraphVariant> Ours { get; init; } = [GraphVariant.Opset23, GraphVariant.Gqa];

    /// <summary>onnxruntime-genai's graph variants (genai, genai-gqa).</summary>
    public IReadOnlyList<GraphVariant> GenAI { get; init; } = [GraphVariant.GenAI, GraphVariant.GenAIGqa];

    /// <summary>Intra-op threads, pinned equal on both sides.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    /// <summary>Timed runs per engine (after one warm-up), alternating between the engines.</summary>
    public int Runs { get; init; } = 3;

    public int PromptTokens { get; init; } = 128;

    public int NewTokens { get; init; } = 64;

    /// <summary>Times with the process's CPU time instead of the wall clock.</summary>
    public bool CpuClock { get; init; }

    /// <summary>Prints the JSON document to stdout.</summary>
    public bool Json { get; init; }

    /// <summary>Writes the JSON document to this file.</summary>
    public string? Out { get; init; }
}
