using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Rest.Onnx.Datastore.Reading;
using Rest.Onnx.Datastore.Search;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Datastore.Tool;

internal static class QueryCommand
{
    private const string Help = """
        usage: rest-datastore query FILE (--ids "ID ID ..." | --tokenizer PATH TEXT...) [options]

        Runs one draft step on the prompt: the longest matching context suffix, its suffix-array interval
        per shard and occurrence count, some continuations, and the draft tree drawn as a tree.

        options:
          --ids "1 2 3"            the prompt as token ids (space or comma separated)
          --tokenizer PATH         tokenizer.model or model folder: encodes TEXT and decodes output;
                                   must match the datastore's tokenizer fingerprint
          --mode sampled|exact     sampled: first k occurrences (reference); exact: all occurrences  [sampled]
          --k N                    occurrences read in sampled mode                                 [5000]
          --budget N               draft tree nodes                                                 [64]
          --max-suffix N           longest context suffix tried                                     [16]
          --min-suffix N           shortest context suffix tried                                    [2]
          --continuation-length N  tokens per continuation (tree depth)                             [10]
          --show N                 continuations printed                                            [10]
          --json                   machine-readable output
        """;

    public static int Run(string[] args)
    {
        var a = new Arguments("query", args,
            ["ids", "tokenizer", "mode", "k", "budget", "max-suffix", "min-suffix", "continuation-length", "show"], ["json"]);
        if (a.Help)
        {
            Console.WriteLine(Help);
            return 0;
        }
        if (a.Positionals.Count == 0) throw new UsageException("query: give the datastore file.");
        var path = a.Positionals[0];
        var text = string.Join(' ', a.Positionals.Skip(1));
        var idsText = a.Value("ids");
        var tokenizerPath = a.Value("tokenizer");
        if ((idsText is null) == (text.Length == 0)) throw new UsageException("query: give either --ids or a text prompt (with --tokenizer).");
        if (text.Length > 0 && tokenizerPath is null) throw new UsageException("query: a text prompt needs --tokenizer.");
        var tokenizer = tokenizerPath is null ? null : TextTokenizer.Load(tokenizerPath);
        var context = idsText is not null ? Arguments.ParseIds(idsText) : tokenizer!.Encode(text);

        var defaults = DraftOptions.Default;
        var options = defaults with
        {
            Mode = a.Value("mode") switch
            {
                null or "sampled" => DraftMode.Sampled,
                "exact" => DraftMode.Exact,
                var m => throw new UsageException($"query: --mode must be sampled or exact, got '{m}'."),
            },
            MaxOccurrences = a.Int("k", 1, int.MaxValue) ?? defaults.MaxOccurrences,
            Budget = a.Int("budget", 0, 1 << 16) ?? defaults.Budget,
            MaxSuffixLength = a.Int("max-suffix", 1, 1024) ?? defaults.MaxSuffixLength,
            MinSuffixLength = a.Int("min-suffix", 1, 1024) ?? defaults.MinSuffixLength,
            ContinuationLength = a.Int("continuation-length", 1, 1024) ?? defaults.ContinuationLength,
        };
        var show = a.Int("show", 0, 100_000) ?? 10;

        using var reader = DatastoreReader.Open(path, tokenizer?.Fingerprint);
        var searcher = new DatastoreSearcher(reader, options);
        var tree = new DraftTree(options.CandidateBudget);
        var clock = Stopwatch.StartNew();
        var matched = searcher.BuildDraft(context, tree);
        var draftMs = clock.Elapsed.TotalMilliseconds;
        var match = context.AsSpan(context.Length - matched).ToArray();
        var continuations = Continuations(reader, searcher, matched, options.ContinuationLength, show);
        // Node counts over all occurrences (what Exact mode ranks by).
        var counts = new long[tree.Count];
        for (var i = 0; i < tree.Count; i++) counts[i] = reader.CountOccurrences([.. match, .. PathOf(tree, i)]);

        string Show(ReadOnlySpan<int> ids) => tokenizer is null ? string.Join(' ', ids.ToArray()) : $"{string.Join(' ', ids.ToArray())} {Quote(tokenizer.Decode(ids))}";

        if (a.Flag("json"))
        {
            WriteJson(context, matched, searcher, continuations, tree, counts, options, draftMs, tokenizer);
            return 0;
        }
        Console.WriteLine($"prompt:          {context.Length} tokens, last {Show(context.AsSpan(Math.Max(0, context.Length - 16)))}");
        Console.WriteLine($"matched suffix:  {matched} tokens{(matched > 0 ? ": " + Show(match) : " (no match: no draft)")}");
        Console.WriteLine($"occurrences:     {searcher.MatchOccurrences:N0}");
        foreach (var r in searcher.MatchRanges)
            if (!r.IsEmpty) Console.WriteLine($"  shard {r.Shard}: suffix array [{r.Start:N0}, {r.End:N0})");
        Console.WriteLine($"draft step:      {draftMs:F3} ms ({options.Mode}, k={options.MaxOccurrences}, budget={options.Budget})");
        Console.WriteLine($"continuations (first {continuations.Count}):");
        foreach (var c in continuations) Console.WriteLine($"  {Show(c)}");
        Console.WriteLine($"draft tree ({tree.Count} nodes, depth {tree.MaxDepth}; count = occurrences over the whole store):");
        Console.WriteLine($"  [root {(context.Length > 0 ? Show(context.AsSpan(context.Length - 1)) : "(empty)")}]");
        DrawChildren(tree, -1, "  ", counts, id => Show([id]));
        return 0;
    }

    private static List<int[]> Continuations(DatastoreReader reader, DatastoreSearcher searcher, int matched, int length, int show)
    {
        var result = new List<int[]>();
        if (matched == 0) return result;
        var buffer = new int[length];
        foreach (var r in searcher.MatchRanges)
            for (var i = r.Start; i < r.End && result.Count < show; i++)
                result.Add(buffer.AsSpan(0, reader.ReadContinuation(r.Shard, i, matched, buffer)).ToArray());
        return result;
    }

    private static int[] PathOf(DraftTree tree, int node)
    {
        var path = new List<int>();
        for (var n = node; n >= 0; n = tree.Parents[n]) path.Insert(0, tree.Tokens[n]);
        return [.. path];
    }

    private static void DrawChildren(DraftTree tree, int parent, string indent, long[] counts, Func<int, string> show)
    {
        var children = new List<int>();
        for (var i = 0; i < tree.Count; i++) if (tree.Parents[i] == parent) children.Add(i);
        for (var c = 0; c < children.Count; c++)
        {
            var last = c == children.Count - 1;
            var node = children[c];
            Console.WriteLine($"{indent}{(last ? "└─ " : "├─ ")}{show(tree.Tokens[node])}  ×{counts[node]:N0}");
            DrawChildren(tree, node, indent + (last ? "   " : "│  "), counts, show);
        }
    }

    private static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var ch in s) sb.Append(ch switch { '\n' => "\\n", '\t' => "\\t", '"' => "\\\"", _ => ch.ToString() });
        return sb.Append('"').ToString();
    }

    private static void WriteJson(int[] context, int matched, DatastoreSearcher searcher, List<int[]> continuations,
        DraftTree tree, long[] counts, DraftOptions options, double draftMs, TextTokenizer? tokenizer)
    {
        // Through Console.Out (not the raw stream) so JSON and text share one writer and callers can redirect it.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            WriteIds(w, "prompt", context);
            w.WriteNumber("matchedSuffixLength", matched);
            WriteIds(w, "matchedSuffix", context.AsSpan(context.Length - matched).ToArray());
            w.WriteNumber("occurrences", searcher.MatchOccurrences);
            w.WriteStartArray("suffixArrayIntervals");
            foreach (var r in searcher.MatchRanges)
            {
                if (r.IsEmpty) continue;
                w.WriteStartObject();
                w.WriteNumber("shard", r.Shard);
                w.WriteNumber("start", r.Start);
                w.WriteNumber("end", r.End);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteString("mode", options.Mode.ToString());
            w.WriteNumber("maxOccurrences", options.MaxOccurrences);
            w.WriteNumber("budget", options.Budget);
            w.WriteNumber("draftMilliseconds", draftMs);
            w.WriteStartArray("continuations");
            foreach (var c in continuations)
            {
                w.WriteStartArray();
                foreach (var id in c) w.WriteNumberValue(id);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteStartArray("tree");
            for (var i = 0; i < tree.Count; i++)
            {
                w.WriteStartObject();
                w.WriteNumber("token", tree.Tokens[i]);
                w.WriteNumber("parent", tree.Parents[i]);
                w.WriteNumber("depth", tree.Depths[i]);
                w.WriteNumber("occurrences", counts[i]);
                if (tokenizer is not null) w.WriteString("text", tokenizer.Decode([tree.Tokens[i]]));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        Console.Out.Write(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
        Console.WriteLine();
    }

    private static void WriteIds(Utf8JsonWriter w, string name, int[] ids)
    {
        w.WriteStartArray(name);
        foreach (var id in ids) w.WriteNumberValue(id);
        w.WriteEndArray();
    }
}
