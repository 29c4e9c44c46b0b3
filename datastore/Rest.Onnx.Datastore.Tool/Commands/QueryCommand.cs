using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Rest.Onnx.Datastore.Reading;
using Rest.Onnx.Datastore.Search;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Datastore.Tool.Commands;

/// <summary><c>rest-datastore query</c>: one draft step on a prompt, shown in full.</summary>
internal static class QueryCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "the datastore file" }.RejectingOptions();
        var prompt = new Argument<string[]>("TEXT") { Description = "the prompt as text (needs --tokenizer)", Arity = ArgumentArity.ZeroOrMore }.RejectingOptions();
        var ids = new Option<int[]>("--ids")
        {
            Description = "the prompt as token ids (space or comma separated)",
            HelpName = "\"ID ID ...\"",
            CustomParser = r =>
            {
                var parts = r.Tokens[^1].Value.Split([' ', ',', '\t'], StringSplitOptions.RemoveEmptyEntries);
                var result = new int[parts.Length];
                for (var i = 0; i < parts.Length; i++)
                    if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out result[i]))
                        r.AddError($"--ids: '{parts[i]}' is not a token id.");
                return result;
            },
        };
        var tokenizerOption = new Option<string>("--tokenizer")
        {
            Description = "tokenizer.model or model folder: encodes TEXT and decodes output; must match the datastore's tokenizer fingerprint",
            HelpName = "PATH",
        };
        var defaults = DraftOptions.Default;
        var mode = Cli.Choice("--mode", "sampled: first k occurrences (reference); exact: all occurrences",
            "sampled", ("sampled", DraftMode.Sampled), ("exact", DraftMode.Exact));
        var k = new Option<int>("--k") { Description = "occurrences read in sampled mode", HelpName = "N", DefaultValueFactory = _ => defaults.MaxOccurrences }.InRange(1, int.MaxValue);
        // No model here, so no per-step cost to choose by: a fixed tree of the candidate cap (the reference's 64) by default.
        var budget = new Option<int>("--budget") { Description = "draft tree nodes", HelpName = "N", DefaultValueFactory = _ => defaults.CandidateBudget }.InRange(0, 1 << 16);
        var maxSuffix = new Option<int>("--max-suffix") { Description = "longest context suffix tried", HelpName = "N", DefaultValueFactory = _ => defaults.MaxSuffixLength }.InRange(1, 1024);
        var minSuffix = new Option<int>("--min-suffix") { Description = "shortest context suffix tried", HelpName = "N", DefaultValueFactory = _ => defaults.MinSuffixLength }.InRange(1, 1024);
        var continuationLength = new Option<int>("--continuation-length") { Description = "tokens per continuation (tree depth)", HelpName = "N", DefaultValueFactory = _ => defaults.ContinuationLength }.InRange(1, 1024);
        var showOption = new Option<int>("--show") { Description = "continuations printed", HelpName = "N", DefaultValueFactory = _ => 10 }.InRange(0, 100_000);
        var json = Cli.Flag("--json", "machine-readable output");
        var command = new Command("query",
            "look up a prompt (--ids, or TEXT with --tokenizer): the longest matching context suffix, its suffix-array interval per shard " +
            "and occurrence count, some continuations, and the draft tree")
        {
            file, prompt, ids, tokenizerOption, mode.Option, k, budget, maxSuffix, minSuffix, continuationLength, showOption, json,
        };
        command.SetAction(p => Run(p.InvocationConfiguration.Output, p.GetRequiredValue(file), string.Join(' ', p.GetRequiredValue(prompt)),
            p.GetResult(ids) is null ? null : p.GetValue(ids), p.GetValue(tokenizerOption), defaults with
            {
                Mode = mode.Get(p),
                MaxOccurrences = p.GetValue(k),
                Budget = p.GetValue(budget),
                MaxSuffixLength = p.GetValue(maxSuffix),
                MinSuffixLength = p.GetValue(minSuffix),
                ContinuationLength = p.GetValue(continuationLength),
            }, p.GetValue(showOption), p.GetValue(json)));
        return command;
    }

    private static int Run(TextWriter output, string path, string text, int[]? ids, string? tokenizerPath, DraftOptions options, int show, bool json)
    {
        if ((ids is null) == (text.Length == 0)) throw new UsageException("give either --ids or a text prompt (with --tokenizer).");
        if (text.Length > 0 && tokenizerPath is null) throw new UsageException("a text prompt needs --tokenizer.");
        var tokenizer = tokenizerPath is null ? null : TextTokenizer.Load(tokenizerPath);
        var context = ids ?? tokenizer!.Encode(text);

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

        if (json)
        {
            WriteJson(output, context, matched, searcher, continuations, tree, counts, options, draftMs, tokenizer);
            return Cli.Success;
        }
        output.WriteLine($"prompt:          {context.Length} tokens, last {Show(context.AsSpan(Math.Max(0, context.Length - 16)))}");
        output.WriteLine($"matched suffix:  {matched} tokens{(matched > 0 ? ": " + Show(match) : " (no match: no draft)")}");
        output.WriteLine($"occurrences:     {searcher.MatchOccurrences:N0}");
        foreach (var r in searcher.MatchRanges)
            if (!r.IsEmpty) output.WriteLine($"  shard {r.Shard}: suffix array [{r.Start:N0}, {r.End:N0})");
        output.WriteLine($"draft step:      {draftMs:F3} ms ({options.Mode}, k={options.MaxOccurrences}, budget={options.Budget})");
        output.WriteLine($"continuations (first {continuations.Count}):");
        foreach (var c in continuations) output.WriteLine($"  {Show(c)}");
        output.WriteLine($"draft tree ({tree.Count} nodes, depth {tree.MaxDepth}; count = occurrences over the whole store):");
        output.WriteLine($"  [root {(context.Length > 0 ? Show(context.AsSpan(context.Length - 1)) : "(empty)")}]");
        DrawChildren(output, tree, -1, "  ", counts, id => Show([id]));
        return Cli.Success;
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

    private static void DrawChildren(TextWriter output, DraftTree tree, int parent, string indent, long[] counts, Func<int, string> show)
    {
        var children = new List<int>();
        for (var i = 0; i < tree.Count; i++) if (tree.Parents[i] == parent) children.Add(i);
        for (var c = 0; c < children.Count; c++)
        {
            var last = c == children.Count - 1;
            var node = children[c];
            output.WriteLine($"{indent}{(last ? "└─ " : "├─ ")}{show(tree.Tokens[node])}  ×{counts[node]:N0}");
            DrawChildren(output, tree, node, indent + (last ? "   " : "│  "), counts, show);
        }
    }

    private static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var ch in s) sb.Append(ch switch { '\n' => "\\n", '\t' => "\\t", '"' => "\\\"", _ => ch.ToString() });
        return sb.Append('"').ToString();
    }

    private static void WriteJson(TextWriter output, int[] context, int matched, DatastoreSearcher searcher, List<int[]> continuations,
        DraftTree tree, long[] counts, DraftOptions options, double draftMs, TextTokenizer? tokenizer)
    {
        // Through the output writer (not the raw stream) so JSON and text share one writer and callers can redirect it.
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
        output.Write(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
        output.WriteLine();
    }

    private static void WriteIds(Utf8JsonWriter w, string name, int[] ids)
    {
        w.WriteStartArray(name);
        foreach (var id in ids) w.WriteNumberValue(id);
        w.WriteEndArray();
    }
}
