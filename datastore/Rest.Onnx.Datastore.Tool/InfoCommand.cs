using System.Diagnostics;
using System.Text.Json;
using Rest.Onnx.Datastore.Reading;

namespace Rest.Onnx.Datastore.Tool;

internal static class InfoCommand
{
    private const string Help = """
        usage: rest-datastore info FILE [--verify] [--tokenizer PATH] [--json]

        Prints the header (format version, vocabulary, token width, separator, tokenizer fingerprint,
        build parameters) and every shard's size.

        options:
          --verify   recompute every section checksum (reads the whole file); exit code 1 on corruption
          --tokenizer PATH  also print which tokenizer file PATH resolves to (tokenizer.json before
                     tokenizer.model in a folder) and whether its fingerprint matches the datastore's
          --json     machine-readable output
        """;

    public static int Run(string[] args)
    {
        var a = new Arguments("info", args, ["tokenizer"], ["verify", "json"]);
        if (a.Help)
        {
            Console.WriteLine(Help);
            return 0;
        }
        if (a.Positionals.Count != 1) throw new UsageException("info: give exactly one datastore file.");
        var clock = Stopwatch.StartNew();
        using var reader = DatastoreReader.Open(a.Positionals[0]);
        var openMs = clock.Elapsed.TotalMilliseconds;
        double? verifyMs = null;
        if (a.Flag("verify"))
        {
            clock.Restart();
            reader.Verify();
            verifyMs = clock.Elapsed.TotalMilliseconds;
        }
        var tokenizer = a.Value("tokenizer") is { } tokenizerPath ? Tokenization.TextTokenizer.Load(tokenizerPath) : null;
        if (a.Flag("json")) WriteJson(reader, openMs, verifyMs, tokenizer);
        else WriteText(reader, openMs, verifyMs, tokenizer);
        return 0;
    }

    private static void WriteText(DatastoreReader r, double openMs, double? verifyMs, Tokenization.TextTokenizer? tokenizer)
    {
        Console.WriteLine($"file:                  {r.Path} ({r.FileLength:N0} bytes, opened in {openMs:F2} ms)");
        Console.WriteLine($"format version:        {r.FormatVersion}");
        Console.WriteLine($"vocabulary size:       {r.VocabularySize:N0}");
        Console.WriteLine($"token width:           {r.TokenWidth * 8} bits");
        Console.WriteLine($"separator:             {(r.Separator < 0 ? "none" : r.Separator.ToString(System.Globalization.CultureInfo.InvariantCulture))}");
        Console.WriteLine($"tokens:                {r.TokenCount:N0}");
        Console.WriteLine($"max shard tokens:      {r.MaxShardTokens:N0}");
        Console.WriteLine($"tokenizer fingerprint: {(r.TokenizerFingerprint.Length == 0 ? "(none)" : r.TokenizerFingerprint)}");
        if (tokenizer is not null)
        {
            Console.WriteLine($"tokenizer:             {tokenizer.Description}");
            Console.WriteLine($"tokenizer matches:     {(tokenizer.Fingerprint == r.TokenizerFingerprint ? "yes" : $"NO (it is {tokenizer.Fingerprint})")}");
        }
        Console.WriteLine($"build parameters:      {r.BuildParameters}");
        Console.WriteLine($"shards:                {r.Shards.Count}");
        foreach (var s in r.Shards)
            Console.WriteLine($"  shard {s.Index}: {s.TokenCount:N0} tokens, {s.DocumentCount:N0} documents, first token {s.FirstToken:N0}");
        if (verifyMs is { } ms) Console.WriteLine($"checksums:             OK (verified in {ms:F0} ms)");
    }

    private static void WriteJson(DatastoreReader r, double openMs, double? verifyMs, Tokenization.TextTokenizer? tokenizer)
    {
        // Through Console.Out (not the raw stream) so JSON and text share one writer and callers can redirect it.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("path", r.Path);
            w.WriteNumber("fileLength", r.FileLength);
            w.WriteNumber("openMilliseconds", openMs);
            w.WriteNumber("formatVersion", r.FormatVersion);
            w.WriteNumber("vocabularySize", r.VocabularySize);
            w.WriteNumber("tokenWidthBytes", r.TokenWidth);
            w.WriteNumber("separator", r.Separator);
            w.WriteNumber("tokens", r.TokenCount);
            w.WriteNumber("maxShardTokens", r.MaxShardTokens);
            w.WriteString("tokenizerFingerprint", r.TokenizerFingerprint);
            if (tokenizer is not null)
            {
                w.WriteStartObject("tokenizer");
                w.WriteString("path", tokenizer.SourcePath);
                w.WriteString("format", tokenizer.Format == Tokenization.TokenizerFormat.HuggingFaceJson ? "tokenizer.json" : "tokenizer.model");
                w.WriteString("fingerprint", tokenizer.Fingerprint);
                w.WriteBoolean("matches", tokenizer.Fingerprint == r.TokenizerFingerprint);
                if (tokenizer.IgnoredFile is { } ignored) w.WriteString("ignoredFile", ignored);
                w.WriteEndObject();
            }
            w.WritePropertyName("buildParameters");
            using (var parameters = JsonDocument.Parse(r.BuildParameters)) parameters.WriteTo(w);
            w.WriteStartArray("shards");
            foreach (var s in r.Shards)
            {
                w.WriteStartObject();
                w.WriteNumber("index", s.Index);
                w.WriteNumber("tokens", s.TokenCount);
                w.WriteNumber("documents", s.DocumentCount);
                w.WriteNumber("firstToken", s.FirstToken);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (verifyMs is { } ms)
            {
                w.WriteBoolean("verified", true);
                w.WriteNumber("verifyMilliseconds", ms);
            }
            w.WriteEndObject();
        }
        Console.Out.Write(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
        Console.WriteLine();
    }
}
