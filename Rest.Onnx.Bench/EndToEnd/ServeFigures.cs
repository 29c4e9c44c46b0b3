using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Rest.Onnx.Bench.Reporting;
using Rest.Onnx.Server;

namespace Rest.Onnx.Bench.EndToEnd;

/// <summary>Options of <c>figures serve</c>.</summary>
internal sealed record ServeOptions
{
    /// <summary>Concurrent clients of each run.</summary>
    public IReadOnlyList<int> Clients { get; init; } = [1, 2, 4, 8];

    /// <summary>Configs: none (drafting off), hybrid (hybrid@auto), hybrid+history (hybrid@auto drafting from the shared history store too).</summary>
    public IReadOnlyList<string> Configs { get; init; } = ["none", "hybrid", "hybrid+history"];

    /// <summary>First N dev prompts (0 = all).</summary>
    public int PromptCount { get; init; } = 16;

    public int MaxNewTokens { get; init; } = 64;

    /// <summary>Times each run sends the prompt set (from the second round on, the history store has seen every prompt).</summary>
    public int Rounds { get; init; } = 2;

    /// <summary>Unmeasured requests before each run (a prompt outside the set, without history).</summary>
    public int Warmup { get; init; } = 2;

    /// <summary>ONNX Runtime intra-op threads of the server's model; 0 = its choice.</summary>
    public int Threads { get; init; }

    /// <summary>Report folder; null = artifacts/serve.</summary>
    public string? Output { get; init; }
}

/// <summary>One run: a config at a number of concurrent clients.</summary>
internal sealed record ServeRow(string Config, int Clients, int Requests, double Seconds, double RequestsPerSecond, double TokensPerSecond,
    double LatencyP50Ms, double LatencyP99Ms, double MeanAcceptedPerStep, int Mismatches);

/// <summary>
/// <c>figures serve</c>: the chat server under load on loopback. For each config and client count a fresh server
/// (<see cref="ChatServer"/> on 127.0.0.1, the demo model and datastore, one generator per client of the largest run)
/// takes the dev prompts <see cref="ServeOptions.Rounds"/> times from that many clients at once (each client sends its
/// next request when its last is answered), greedy, non-streaming; requests/s and completion tokens/s over the run's wall
/// time, latency percentiles per request, and tokens per verification step from the responses' <c>rest</c> statistics.
/// Every response must equal the first response to its prompt (greedy is lossless and requests must not mix), else exit 1.
/// </summary>
internal static class ServeFigures
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static int Run(ServeOptions options, TextWriter log)
    {
        var output = options.Output ?? Path.Combine(RepositoryPaths.Root, "artifacts", "serve");
        Directory.CreateDirectory(output);
        var prompts = PromptSet.Load(RepositoryPaths.DemoPrompts, options.PromptCount).Select(p => p.Prompt).ToList();
        var generators = options.Clients.Max();
        var reference = new Dictionary<int, string>();
        var rows = new List<ServeRow>();
        foreach (var config in options.Configs)
            foreach (var clients in options.Clients)
            {
                log.WriteLine($"== {config}, {clients} client{(clients == 1 ? "" : "s")}");
                var row = RunOne(options, config, clients, generators, prompts, reference, log).GetAwaiter().GetResult();
                rows.Add(row);
                log.WriteLine(Table([row]));
                Write(output, rows, options, prompts.Count, generators);
            }
        log.WriteLine(Table(rows));
        log.WriteLine($"Reports: {Path.Combine(output, "report.md")}, report.json, report.svg");
        var mismatches = rows.Sum(r => r.Mismatches);
        if (mismatches > 0) Console.Error.WriteLine($"BUG: {mismatches} responses differ from the first response to their prompt (greedy must not depend on drafting or load).");
        return mismatches > 0 ? 1 : 0;
    }

    private static string RestJson(string config) => config switch
    {
        "none" => """{"drafting":"none"}""",
        "hybrid" => """{"drafting":"hybrid","budget":"auto","history":false}""",
        _ => """{"drafting":"hybrid","budget":"auto","history":true}""",
    };

    private static async Task<ServeRow> RunOne(ServeOptions options, string config, int clients, int generators, IReadOnlyList<string> prompts,
        Dictionary<int, string> reference, TextWriter log)
    {
        await using var server = await ChatServer.StartAsync(new ServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            Generators = generators,
            QueueLimit = generators,
            Threads = options.Threads,
            History = config.EndsWith("+history", StringComparison.Ordinal),
        }, log);
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(10) };
        var rest = RestJson(config);
        for (var w = 0; w < options.Warmup; w++)
            await PostAsync(http, "def warm_up(n):\n    \"\"\"Return n squared.\"\"\"\n", options.MaxNewTokens,
                config == "none" ? rest : """{"drafting":"hybrid","budget":"auto","history":false}""", CancellationToken.None);

        var total = prompts.Count * options.Rounds;
        var latencies = new double[total];
        var texts = new string[total];
        long tokens = 0, steps = 0;
        var next = -1;
        using var progress = new ProgressBar(log, $"{config} x{clients}", total, "requests");
        var done = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < total)
            {
                var start = Stopwatch.GetTimestamp();
                var (text, completion, verification) = await PostAsync(http, prompts[i % prompts.Count], options.MaxNewTokens, rest, CancellationToken.None);
                latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                texts[i] = text;
                Interlocked.Add(ref tokens, completion);
                Interlocked.Add(ref steps, verification);
                progress.Report(Interlocked.Increment(ref done));
            }
        })));
        var seconds = clock.Elapsed.TotalSeconds;
        progress.Complete();

        var mismatches = 0;
        for (var i = 0; i < total; i++)
        {
            var prompt = i % prompts.Count;
            if (!reference.TryAdd(prompt, texts[i]) && reference[prompt] != texts[i])
            {
                mismatches++;
                Console.Error.WriteLine($"MISMATCH: {config} x{clients}, request {i} (prompt {prompt}) differs from the first response to its prompt.");
            }
        }
        Array.Sort(latencies);
        return new ServeRow(config, clients, total, seconds, total / seconds, tokens / seconds,
            Percentile(latencies, 0.50), Percentile(latencies, 0.99), steps == 0 ? double.NaN : tokens / (double)steps, mismatches);
    }

    /// <summary>One greedy, non-streaming request; the reply's text, completion tokens and verification steps. A non-2xx answer fails the run.</summary>
    private static async Task<(string Text, int Completion, int Steps)> PostAsync(HttpClient http, string prompt, int maxTokens, string rest, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }),
            ["max_tokens"] = maxTokens,
            ["temperature"] = 0,
            ["rest"] = JsonNode.Parse(rest),
        };
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        using var response = await http.PostAsync("v1/chat/completions", content, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"The server answered {(int)response.StatusCode}: {text}");
        using var doc = JsonDocument.Parse(text);
        var root = doc.RootElement;
        return (root.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() ?? "",
            root.GetProperty("usage").GetProperty("completion_tokens").GetInt32(),
            root.GetProperty("rest").TryGetProperty("verification_steps", out var s) ? s.GetInt32() : 0);
    }

    private static double Percentile(double[] sorted, double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * q))];

    private static string F(double v, string format = "F2") => double.IsNaN(v) ? "-" : v.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>The markdown table: one row per config and client count.</summary>
    public static string Table(IReadOnlyList<ServeRow> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| config | clients | requests | requests/s | tokens/s | latency p50 ms | latency p99 ms | tokens/step | equal |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Config} | {r.Clients} | {r.Requests} | {F(r.RequestsPerSecond)} | {F(r.TokensPerSecond, "F1")} | {F(r.LatencyP50Ms, "F0")} | {F(r.LatencyP99Ms, "F0")} | {F(r.MeanAcceptedPerStep)} | {r.Requests - r.Mismatches}/{r.Requests} |");
        return sb.ToString();
    }

    private static void Write(string folder, IReadOnlyList<ServeRow> rows, ServeOptions options, int promptCount, int generators)
    {
        var setup = new Dictionary<string, string>
        {
            ["date (UTC)"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
            ["machine"] = $"{Environment.ProcessorCount} logical cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
            ["server"] = $"rest-server in process on 127.0.0.1, demo model and demo datastore, {generators} generators, intra-op threads {(options.Threads == 0 ? "ONNX Runtime's choice" : options.Threads)}",
            ["requests"] = $"the first {promptCount} dev prompts x {options.Rounds} rounds per run, {options.MaxNewTokens} new tokens, greedy, non-streaming; {options.Warmup} warm-up requests",
            ["configs"] = "none: drafting off; hybrid: hybrid@auto without history; hybrid+history: hybrid@auto drafting from the shared history store (fresh per run)",
        };
        File.WriteAllText(Path.Combine(folder, "report.json"), JsonSerializer.Serialize(new { setup, rows }, s_json));
        var md = new StringBuilder("# Serving: throughput and latency by concurrent clients\n\n");
        foreach (var (k, v) in setup) md.AppendLine(CultureInfo.InvariantCulture, $"- {k}: {v}");
        md.AppendLine().AppendLine(Table(rows))
            .AppendLine("tokens/s: completion tokens of all requests over the run's wall time; latency: per request, queueing included; tokens/step: completion tokens per verification step.")
            .AppendLine().AppendLine("![Throughput and latency by concurrent clients](report.svg)");
        File.WriteAllText(Path.Combine(folder, "report.md"), md.ToString());
        var categories = options.Clients.Select(c => $"{c} client{(c == 1 ? "" : "s")}").ToList();
        IReadOnlyList<(string, IReadOnlyList<double>)> Series(Func<ServeRow, double> value) =>
            [.. rows.Select(r => r.Config).Distinct().Select(c => (c, (IReadOnlyList<double>)[.. options.Clients.Select(n => rows.FirstOrDefault(r => r.Config == c && r.Clients == n) is { } r ? value(r) : 0)]))];
        File.WriteAllText(Path.Combine(folder, "report.svg"), SvgChart.Render(
        [
            new SvgChart.Panel("Completion tokens/s by concurrent clients", "tokens/s", categories, Series(r => r.TokensPerSecond)),
            new SvgChart.Panel("Requests/s by concurrent clients", "requests/s", categories, Series(r => r.RequestsPerSecond)),
            new SvgChart.Panel("Request latency p50 by concurrent clients", "ms", categories, Series(r => r.LatencyP50Ms)),
            new SvgChart.Panel("Request latency p99 by concurrent clients", "ms", categories, Series(r => r.LatencyP99Ms)),
        ]));
    }
}
