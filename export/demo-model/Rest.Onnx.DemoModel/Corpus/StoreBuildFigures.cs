using System.Text.Json;
using Rest.Onnx.Datastore.Building;

namespace Rest.Onnx.DemoModel.Corpus;

/// <summary>
/// How a demo store's build went: wall time, the suffix-array sort's share of it and the process's peak resident
/// memory during the build. Written beside the store as <c>&lt;store&gt;.build.json</c>, so a figure that reuses a
/// cached store still reports how it was built.
/// </summary>
/// <param name="Tokens">Tokens in the store, separators included.</param>
/// <param name="Seconds">The whole build: reading (and tokenizing), suffix array, checksums, write.</param>
/// <param name="SuffixArraySeconds">The suffix-array sort alone, over all shards.</param>
/// <param name="PeakMemoryBytes">Peak resident memory of the building process (VmHWM, reset before the build; 0 where unknown).</param>
public sealed record StoreBuildFigures(long Tokens, double Seconds, double SuffixArraySeconds, long PeakMemoryBytes)
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>Tokens per second of the whole build.</summary>
    public double TokensPerSecond => Seconds > 0 ? Tokens / Seconds : 0;

    /// <summary>Tokens per second of the suffix-array sort.</summary>
    public double SuffixArrayTokensPerSecond => SuffixArraySeconds > 0 ? Tokens / SuffixArraySeconds : 0;

    /// <summary>Where the figures of <paramref name="store"/> are kept.</summary>
    public static string PathFor(string store) => store + ".build.json";

    /// <summary>
    /// Runs <paramref name="build"/> with progress bars on <paramref name="log"/> (<see cref="StoreBuildProgress"/>),
    /// measures it and writes the figures beside <paramref name="store"/>.
    /// </summary>
    public static (DatastoreBuildSummary Summary, StoreBuildFigures Figures) Measure(string store, TextWriter log, string label, long expectedTokens,
        Func<IProgress<DatastoreBuildProgress>, DatastoreBuildSummary> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        ProcessMemory.ResetPeak();
        DatastoreBuildSummary summary;
        TimeSpan sort;
        using (var progress = new StoreBuildProgress(log, label, expectedTokens))
        {
            summary = build(progress);
            sort = progress.SuffixArrayTime;
        }
        var figures = new StoreBuildFigures(summary.Tokens, summary.Elapsed.TotalSeconds, sort.TotalSeconds, ProcessMemory.PeakResidentBytes());
        File.WriteAllText(PathFor(store), JsonSerializer.Serialize(figures, s_json) + "\n");
        return (summary, figures);
    }

    /// <summary>The figures written when <paramref name="store"/> was built; null when there are none, or they are older than the store.</summary>
    public static StoreBuildFigures? TryRead(string store)
    {
        var path = PathFor(store);
        if (!File.Exists(path) || !File.Exists(store) || File.GetLastWriteTimeUtc(path) < File.GetLastWriteTimeUtc(store)) return null;
        try { return JsonSerializer.Deserialize<StoreBuildFigures>(File.ReadAllText(path), s_json); }
        catch (JsonException) { return null; }
    }
}
