using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Rest.Onnx.Export;
using Rest.Onnx.Export.Tiny;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Bench.EndToEnd;

/// <summary>
/// The cost of verifying r rows on a TinyLlama-1.1B-shaped model (22 layers, hidden 2048, 32 heads, 4 kv heads,
/// MLP 5632, vocab 32000, fp32, random weights) on this machine, measured once with a bare InferenceSession at
/// 256 cached positions and cached as JSON; the main job projects its runs onto this curve. The model (about
/// 4.4 GB) is written by the tiny-model maker and exported into .cache/tinyllama-1.1b-shape on first use.
/// </summary>
internal sealed class CostCurveFigures
{
    private const int Cached = 256;
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private static readonly int[] Rows = [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64];

    public required string Description { get; init; }
    public required IReadOnlyList<(int Rows, double Ms)> Points { get; init; }

    public static string Folder => Path.Combine(RepositoryPaths.Root, ".cache", "tinyllama-1.1b-shape");
    private static string CurvePath => Path.Combine(Folder, "cost-curve.json");

    /// <summary>Milliseconds of a step of <paramref name="rows"/> rows, interpolated (extrapolated by the last slope).</summary>
    public double Ms(int rows)
    {
        var p = Points;
        if (rows <= p[0].Rows) return p[0].Ms;
        for (var i = 1; i < p.Count; i++)
            if (rows <= p[i].Rows)
                return p[i - 1].Ms + (p[i].Ms - p[i - 1].Ms) * (rows - p[i - 1].Rows) / (p[i].Rows - p[i - 1].Rows);
        var slope = (p[^1].Ms - p[^2].Ms) / (p[^1].Rows - p[^2].Rows);
        return p[^1].Ms + slope * (rows - p[^1].Rows);
    }

    /// <summary>The cached curve, or null when <c>figures cost-curve</c> has not run.</summary>
    public static CostCurveFigures? TryLoad(string cache)
    {
        _ = cache;
        if (!File.Exists(CurvePath)) return null;
        using var doc = JsonDocument.Parse(File.ReadAllText(CurvePath));
        var root = doc.RootElement;
        var points = root.GetProperty("points").EnumerateArray()
            .Select(e => (Rows: e.GetProperty("rows").GetInt32(), Ms: e.GetProperty("ms").GetDouble())).OrderBy(p => p.Rows).ToList();
        // The lower non-decreasing envelope: a shared machine only ever slows a measurement down.
        for (var i = points.Count - 2; i >= 0; i--) points[i] = (points[i].Rows, Math.Min(points[i].Ms, points[i + 1].Ms));
        return new CostCurveFigures { Description = root.GetProperty("description").GetString() ?? "", Points = points };
    }

    /// <summary>Writes (if needed) and measures the model, then caches the curve.</summary>
    public static void Run(TextWriter log, int rounds)
    {
        var options = new TinyLlamaOptions
        {
            Layers = 22, HiddenSize = 2048, Heads = 32, KvHeads = 4, IntermediateSize = 5632, VocabSize = 32000, MaxPositions = 512,
        };
        var modelFolder = Path.Combine(Folder, "model");
        if (!File.Exists(Path.Combine(modelFolder, ModelManifest.FileName)))
        {
            var checkpoint = Path.Combine(Folder, "checkpoint");
            var clock = Stopwatch.StartNew();
            log.WriteLine($"Writing a random-weight TinyLlama-1.1B-shaped checkpoint to {checkpoint} ...");
            TinyLlama.Write(checkpoint, options);
            log.WriteLine($"  {clock.Elapsed.TotalSeconds:F0} s; exporting to {modelFolder} ...");
            LlamaExporter.Export(checkpoint, modelFolder);
            Directory.Delete(checkpoint, recursive: true);
            log.WriteLine($"  {clock.Elapsed.TotalSeconds:F0} s.");
        }
        var config = ModelManifest.Load(Path.Combine(modelFolder, ModelManifest.FileName));
        using var session = new InferenceSession(Path.Combine(modelFolder, config.ModelFile));
        var best = Rows.ToDictionary(r => r, _ => double.PositiveInfinity);
        Measure(session, config, 1); // warm-up
        for (var round = 0; round < rounds; round++)
        {
            foreach (var rows in Rows)
            {
                best[rows] = Math.Min(best[rows], Measure(session, config, rows));
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round + 1}, {rows} rows: {best[rows]:F1} ms (best so far)"));
            }
        }
        var description = string.Create(CultureInfo.InvariantCulture,
            $"TinyLlama-1.1B-shaped fp32 random weights, bare InferenceSession, {Cached} cached, best of {rounds}, measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores");
        var json = new
        {
            description,
            points = Rows.Select(r => new { rows = r, ms = best[r], relative = best[r] / best[1] }).ToArray(),
        };
        File.WriteAllText(CurvePath, JsonSerializer.Serialize(json, Indented));
        log.WriteLine(description);
        log.WriteLine(string.Join(", ", Rows.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r}: {best[r] / best[1]:F2}x"))));
        log.WriteLine($"Wrote {CurvePath}.");
    }

    private static double Measure(InferenceSession session, ModelManifest config, int rows)
    {
        var total = Cached + rows;
        var inputs = new Dictionary<string, OrtValue>
        {
            [config.Inputs.InputIds] = OrtValue.CreateTensorValueFromMemory(Enumerable.Range(0, rows).Select(i => (long)(3 + i)).ToArray(), [1, rows]),
            [config.Inputs.PositionIds] = OrtValue.CreateTensorValueFromMemory(Enumerable.Range(Cached, rows).Select(i => (long)i).ToArray(), [1, rows]),
            [config.Inputs.AttentionMask] = OrtValue.CreateTensorValueFromMemory(new float[rows * total], [1, 1, rows, total]),
        };
        var past = new float[config.NumKvHeads * Cached * config.HeadSize];
        for (var layer = 0; layer < config.NumLayers; layer++)
        {
            inputs[string.Format(CultureInfo.InvariantCulture, config.Inputs.PastKey, layer)] = OrtValue.CreateTensorValueFromMemory(past, [1, config.NumKvHeads, Cached, config.HeadSize]);
            inputs[string.Format(CultureInfo.InvariantCulture, config.Inputs.PastValue, layer)] = OrtValue.CreateTensorValueFromMemory(past, [1, config.NumKvHeads, Cached, config.HeadSize]);
        }
        try
        {
            using var runOptions = new RunOptions();
            var start = Stopwatch.GetTimestamp();
            using var outputs = session.Run(runOptions, inputs, session.OutputNames);
            return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        finally
        {
            foreach (var value in inputs.Values) value.Dispose();
        }
    }
}
