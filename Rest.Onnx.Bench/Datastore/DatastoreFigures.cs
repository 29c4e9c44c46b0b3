using System.Diagnostics;
using System.Globalization;
using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Datastore.Reading;
using Rest.Onnx.Datastore.Search;
using Rest.Onnx.Datastore.SuffixArrays;

namespace Rest.Onnx.Bench.Datastore;

/// <summary>
/// The large datastore figures, measured with a plain stopwatch (BenchmarkDotNet at 100M tokens is too
/// heavy for a shared 2-core machine): SA-IS throughput and peak memory, full build, open time, and draft
/// step latency (median, p99) in both count modes. Writes a markdown table.
/// </summary>
public static class DatastoreFigures
{
    /// <summary>Runs every measurement at <paramref name="tokens"/> tokens and writes the results to <paramref name="output"/>.</summary>
    /// <param name="output">Where the markdown goes.</param>
    /// <param name="tokens">Store size; 100M for the published figures.</param>
    /// <param name="queries">Draft steps timed per mode.</param>
    /// <param name="folder">Scratch folder for the store (needs about 6 bytes per token); a temporary one when null.</param>
    public static void Run(TextWriter output, int tokens = 100_000_000, int queries = 2000, string? folder = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        var scratch = folder ?? Directory.CreateTempSubdirectory("rest-figures-").FullName;
        var path = Path.Combine(scratch, "figures.rds");
        var inv = CultureInfo.InvariantCulture;
        try
        {
            var text = SyntheticTokens.Generate(tokens, streamSeed: 1);
            var text16 = Array.ConvertAll(text, t => (ushort)t);
            GC.Collect();

            // 1. Suffix array alone, on 16-bit text (what the writer sorts for vocabularies up to 65,536) and on
            // int32 text. Memory = the text + what the build adds above the baseline (suffix array + scratch).
            // CPU time next to wall time: on a shared machine the wall clock also measures the neighbours.
            var baseline = Process.GetCurrentProcess().WorkingSet64;
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            SuffixArrayBuilder.Build(text16, SyntheticTokens.Vocabulary, GC.AllocateUninitializedArray<int>(tokens));
            var saSeconds = clock.Elapsed.TotalSeconds;
            var saCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            var added = (Process.GetCurrentProcess().PeakWorkingSet64 - baseline) / (double)tokens;
            text16 = null;
            GC.Collect();
            cpu = Process.GetCurrentProcess().TotalProcessorTime;
            clock.Restart();
            SuffixArrayBuilder.Build(text, SyntheticTokens.Vocabulary, GC.AllocateUninitializedArray<int>(tokens));
            var sa32Seconds = clock.Elapsed.TotalSeconds;
            var sa32Cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            GC.Collect();

            // 2. Full build through the writer (documents, shard assembly, suffix array, checksummed write).
            cpu = Process.GetCurrentProcess().TotalProcessorTime;
            clock.Restart();
            var summary = BuildStore(path, text);
            var buildSeconds = clock.Elapsed.TotalSeconds;
            var buildCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            text = null;
            GC.Collect();

            // 3. Open: median of repeated opens (after one to warm code paths; the OS page cache is warm too).
            DatastoreReader.Open(path).Dispose();
            var opens = new double[21];
            for (var i = 0; i < opens.Length; i++)
            {
                clock.Restart();
                using var r = DatastoreReader.Open(path);
                opens[i] = clock.Elapsed.TotalMilliseconds;
            }
            Array.Sort(opens);

            // 3b. Open with every checksum and id verified (reads the whole file; warm page cache).
            DatastoreReader.Open(path, null, verifyChecksums: true).Dispose();
            var verifies = new double[5];
            for (var i = 0; i < verifies.Length; i++)
            {
                clock.Restart();
                using var r = DatastoreReader.Open(path, null, verifyChecksums: true);
                verifies[i] = clock.Elapsed.TotalMilliseconds;
            }
            Array.Sort(verifies);

            output.WriteLine(string.Create(inv, $"Machine: {Environment.ProcessorCount} cores, load average at start {LoadAverage()}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, .NET {Environment.Version}."));
            output.WriteLine();
            output.WriteLine($"| measurement | value |");
            output.WriteLine($"|---|---|");
            output.WriteLine(string.Create(inv, $"| tokens | {tokens:N0} (vocab {SyntheticTokens.Vocabulary}, 16-bit store) |"));
            output.WriteLine(string.Create(inv, $"| SA-IS build, 16-bit text (one thread) | wall {saSeconds:F2} s = {tokens / saSeconds / 1e6:F2} M tokens/s; CPU {saCpu:F2} s = {tokens / saCpu / 1e6:F2} M tokens/s |"));
            output.WriteLine(string.Create(inv, $"| SA-IS build, int32 text (one thread) | wall {sa32Seconds:F2} s = {tokens / sa32Seconds / 1e6:F2} M tokens/s; CPU {sa32Cpu:F2} s = {tokens / sa32Cpu / 1e6:F2} M tokens/s |"));
            output.WriteLine(string.Create(inv, $"| SA-IS peak memory: suffix array + scratch | {added:F2} bytes/token, so {added + 2:F2} with 16-bit text, {added + 4:F2} with int32 text |"));
            output.WriteLine(string.Create(inv, $"| full build (writer: shard assembly, SA, checksums, write) | wall {buildSeconds:F2} s = {tokens / buildSeconds / 1e6:F2} M tokens/s; CPU {buildCpu:F2} s = {tokens / buildCpu / 1e6:F2} M tokens/s |"));
            output.WriteLine(string.Create(inv, $"| process peak working set after build | {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F0} MiB |"));
            output.WriteLine(string.Create(inv, $"| file size | {summary.FileLength / 1048576.0:F0} MiB |"));
            output.WriteLine(string.Create(inv, $"| open (median of 21, warm page cache) | {opens[10]:F3} ms (max {opens[^1]:F3} ms) |"));
            output.WriteLine(string.Create(inv, $"| open with verifyChecksums (median of 5, warm page cache) | {verifies[2]:F1} ms (min {verifies[0]:F1} ms) = {verifies[2] / (tokens / 1e8):F0} ms per 100M tokens |"));

            // 4. Draft step latency per mode.
            using var reader = DatastoreReader.Open(path);
            var contexts = Contexts(queries, 16);
            foreach (var mode in new[] { DraftMode.Sampled, DraftMode.Exact })
            {
                var searcher = new DatastoreSearcher(reader, DraftOptions.Default with { Mode = mode });
                var tree = new DraftTree(64);
                // Warm-up pass: JIT and the pages the queries touch.
                foreach (var c in contexts) searcher.BuildDraft(c, tree);
                var times = new double[contexts.Length];
                var cpuTimes = new double[contexts.Length];
                long matchedSum = 0, nodes = 0;
                var allocated = GC.GetAllocatedBytesForCurrentThread();
                for (var i = 0; i < contexts.Length; i++)
                {
                    // Process CPU time too: on a loaded machine a preempted step's wall time is mostly waiting.
                    var c0 = Environment.CpuUsage.TotalTime;
                    var t0 = Stopwatch.GetTimestamp();
                    matchedSum += searcher.BuildDraft(contexts[i], tree);
                    times[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                    cpuTimes[i] = (Environment.CpuUsage.TotalTime - c0).TotalMilliseconds;
                    nodes += tree.Count;
                }
                allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
                Array.Sort(times);
                Array.Sort(cpuTimes);
                output.WriteLine(string.Create(inv,
                    $"| draft step, {mode}{(mode == DraftMode.Sampled ? " k=5000" : "")} (budget 64, {contexts.Length} contexts) | wall: median {times[times.Length / 2]:F3} ms, p99 {times[(int)(times.Length * 0.99)]:F3} ms, max {times[^1]:F3} ms; CPU: median {cpuTimes[cpuTimes.Length / 2]:F3} ms, p99 {cpuTimes[(int)(cpuTimes.Length * 0.99)]:F3} ms; mean match {matchedSum / (double)contexts.Length:F2} tokens, mean tree {nodes / (double)contexts.Length:F1} nodes, {allocated / contexts.Length} B allocated/step |"));
            }
        }
        finally
        {
            if (folder is null) Directory.Delete(scratch, true);
            else File.Delete(path);
        }
    }

    private static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "unknown"; }
    }

    /// <summary>Builds a store from a synthetic stream: its documents joined with the separator.</summary>
    public static DatastoreBuildSummary BuildStore(string path, int[] stream)
    {
        using var writer = DatastoreWriter.Create(path, new DatastoreBuildOptions
        {
            VocabularySize = SyntheticTokens.Vocabulary,
            Separator = SyntheticTokens.Separator,
            Description = "synthetic Markov/Zipf tokens (Rest.Onnx.Bench)",
        });
        foreach (var document in SyntheticTokens.Documents(stream)) writer.AddDocument(document);
        return writer.Complete();
    }

    /// <summary>Contexts of <paramref name="length"/> tokens from a held-out stream of the same chain.</summary>
    public static int[][] Contexts(int count, int length)
    {
        var stream = SyntheticTokens.Generate(count * (length + 7), streamSeed: 99);
        var contexts = new int[count][];
        for (var i = 0; i < count; i++) contexts[i] = stream.AsSpan(i * (length + 7), length).ToArray();
        return contexts;
    }
}
