using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using Rest.Onnx.Bench.EndToEnd;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Bench.Tokenization;

/// <summary>
/// `figures tokenizers`: exactness against the golden ids of Hugging Face tokenizers
/// (Rest.Onnx.Tests/Tokenization/HfTokenizers) and encode speed on the same texts, for the project's
/// TextTokenizer (HF's Rust core) and, as the alternative considered, Microsoft.ML.Tokenizers 2.0.1 built
/// from the same tokenizer.json (TiktokenTokenizer with a rank table for byte-level files, BpeTokenizer
/// for the SentencePiece-style one). Plain stopwatch, best of three passes.
/// </summary>
internal static class TokenizerFigures
{
    private static string Folder => Path.Combine(RepositoryPaths.Root, "Rest.Onnx.Tests", "Tokenization", "HfTokenizers");

    public static void Run(TextWriter output)
    {
        output.WriteLine($"tokenizer figures, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load average {LoadAverage()}");
        output.WriteLine("| file | cases | encoder | exact | exact, texts without special-token text | encode MB/s (1 thread) | encode MB/s (2 threads) |");
        output.WriteLine("|---|---:|---|---:|---:|---:|---:|");
        var temp = Directory.CreateTempSubdirectory("rest-tokenizer-figures-").FullName;
        try
        {
            foreach (var name in new[] { "qwen3", "mistral", "llama3" })
            {
                var path = name == "llama3"
                    ? Path.Combine(RepositoryPaths.Root, ".cache", "hf-tokenizers", "node_modules", "@lenml", "tokenizer-llama3", "models", "tokenizer.json")
                    : Unpack(name, temp);
                if (!File.Exists(path))
                {
                    output.WriteLine($"| {name} | | (file not fetched) | | | | |");
                    continue;
                }
                var cases = ReadGolden(name);
                var loadClock = Stopwatch.StartNew();
                var ours = TextTokenizer.Load(path);
                var loadMs = loadClock.Elapsed.TotalMilliseconds;
                Report(output, name, cases, $"TextTokenizer (HF tokenizers' Rust core; Load {loadMs:F0} ms)", t => ours.Encode(t));
                Func<string, int[]>? alternative = null;
                string label;
                try
                {
                    (label, alternative) = MicrosoftAlternative(path);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    label = $"Microsoft.ML.Tokenizers: cannot build ({e.GetType().Name}: {e.Message})";
                }
                if (alternative is null) output.WriteLine($"| {name} | {cases.Count} | {label} | | | | |");
                else Report(output, name, cases, label, alternative);
            }
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    private static void Report(TextWriter output, string name, List<(string Text, int[] Ids, bool Special)> cases, string label, Func<string, int[]> encode)
    {
        var exact = cases.Count(c => encode(c.Text).AsSpan().SequenceEqual(c.Ids));
        var plain = cases.Where(c => !c.Special).ToList();
        var plainExact = plain.Count(c => encode(c.Text).AsSpan().SequenceEqual(c.Ids));
        var bytes = cases.Sum(c => (long)Encoding.UTF8.GetByteCount(c.Text));
        double Pass(int threads)
        {
            var best = double.MaxValue;
            for (var rep = 0; rep < 3; rep++)
            {
                var clock = Stopwatch.StartNew();
                Parallel.For(0, cases.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, i => encode(cases[i].Text));
                best = Math.Min(best, clock.Elapsed.TotalSeconds);
            }
            return bytes / best / 1e6;
        }
        output.WriteLine($"| {name} | {cases.Count} | {label} | {exact} ({100.0 * exact / cases.Count:F2}%) | {plainExact} of {plain.Count} ({100.0 * plainExact / plain.Count:F2}%) | {Pass(1):F2} | {Pass(2):F2} |");
    }

    // Microsoft.ML.Tokenizers built from the tokenizer.json: the way one would use it instead of HF's core.
    private static (string, Func<string, int[]>) MicrosoftAlternative(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        var model = root.GetProperty("model");
        var specials = root.GetProperty("added_tokens").EnumerateArray()
            .ToDictionary(t => t.GetProperty("content").GetString()!, t => t.GetProperty("id").GetInt32());
        var json = root.GetRawText();
        if (json.Contains("\"ByteLevel\"", StringComparison.Ordinal))
        {
            // Rank table: each vocabulary entry's bytes (GPT-2's byte-to-char map undone), rank = id.
            var unicodeToByte = ByteLevelAlphabet();
            var ranks = new StringBuilder();
            foreach (var entry in model.GetProperty("vocab").EnumerateObject())
            {
                var raw = entry.Name.Select(c => unicodeToByte[c]).ToArray();
                ranks.Append(Convert.ToBase64String(raw)).Append(' ').Append(entry.Value.GetInt32()).Append('\n');
            }
            var pattern = FindSplitRegex(root.GetProperty("pre_tokenizer"))
                ?? throw new InvalidDataException("no Split regex in the pre-tokenizer");
            var preTokenizer = new RegexPreTokenizer(new Regex(pattern, RegexOptions.Compiled), specials);
            using var stream = new MemoryStream(Encoding.UTF8.GetBytes(ranks.ToString()));
            var nfc = root.TryGetProperty("normalizer", out var n) && n.ValueKind == JsonValueKind.Object && n.GetProperty("type").GetString() == "NFC";
            var tiktoken = TiktokenTokenizer.Create(stream, preTokenizer, nfc ? new NfcNormalizer() : null, specials);
            return ("Microsoft.ML.Tokenizers TiktokenTokenizer (ranks from vocab)", t => [.. tiktoken.EncodeToIds(t)]);
        }
        var vocab = model.GetProperty("vocab").EnumerateObject().Select(e => new KeyValuePair<string, int>(e.Name, e.Value.GetInt32())).ToList();
        var merges = model.GetProperty("merges").EnumerateArray()
            .Select(m => m.ValueKind == JsonValueKind.String ? m.GetString()! : $"{m[0].GetString()} {m[1].GetString()}").ToList();
        var bpe = BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges,
            Normalizer = new SentencePieceStyleNormalizer(),
            SpecialTokens = specials,
            UnknownToken = "<unk>",
            FuseUnknownTokens = true,
        });
        return ("Microsoft.ML.Tokenizers BpeTokenizer (no byte fallback)", t => [.. bpe.EncodeToIds(t)]);
    }

    private static string? FindSplitRegex(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Array) return e.EnumerateArray().Select(FindSplitRegex).FirstOrDefault(r => r is not null);
        if (e.ValueKind != JsonValueKind.Object) return null;
        if (e.TryGetProperty("type", out var t) && t.GetString() == "Split" && e.TryGetProperty("pattern", out var p) && p.TryGetProperty("Regex", out var r))
            return r.GetString();
        return e.EnumerateObject().Select(x => FindSplitRegex(x.Value)).FirstOrDefault(x => x is not null);
    }

    private static Dictionary<char, byte> ByteLevelAlphabet()
    {
        var map = new Dictionary<char, byte>();
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[(char)(printable ? b : next++)] = (byte)b;
        }
        return map;
    }

    private sealed class NfcNormalizer : Normalizer
    {
        public override string Normalize(string original) => original.Normalize(NormalizationForm.FormC);
        public override string Normalize(ReadOnlySpan<char> original) => original.ToString().Normalize(NormalizationForm.FormC);
    }

    private sealed class SentencePieceStyleNormalizer : Normalizer
    {
        public override string Normalize(string original) => "\u2581" + original.Replace(' ', '\u2581');
        public override string Normalize(ReadOnlySpan<char> original) => Normalize(original.ToString());
    }

    private static string Unpack(string name, string folder)
    {
        var path = Path.Combine(folder, name, "tokenizer.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var input = new GZipStream(File.OpenRead(Path.Combine(Folder, $"{name}.tokenizer.json.gz")), CompressionMode.Decompress);
        using var file = File.Create(path);
        input.CopyTo(file);
        return path;
    }

    private static List<(string Text, int[] Ids, bool Special)> ReadGolden(string name)
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(Path.Combine(Folder, $"{name}.golden.jsonl.gz")), CompressionMode.Decompress));
        reader.ReadLine(); // header
        var cases = new List<(string, int[], bool)>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            using var doc = JsonDocument.Parse(line);
            cases.Add((doc.RootElement.GetProperty("text").GetString()!, [.. doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())],
                doc.RootElement.TryGetProperty("plainIds", out _)));
        }
        return cases;
    }

    private static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "n/a"; }
    }
}
