using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Rest.Onnx.Datastore.Reading;

namespace Rest.Onnx.Datastore.Tool.Commands;

/// <summary><c>rest-datastore info</c>: a datastore's header and shards; <c>--verify</c> checks every checksum.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "the datastore file" }.RejectingOptions();
        var verify = Cli.Flag("--verify", "recompute every section checksum (reads the whole file); exit code 1 on corruption");
        var json = Cli.Flag("--json", "machine-readable output");
        var tokenizerOption = new Option<string?>("--tokenizer")
        {
            Description = "also print which tokenizer file PATH resolves to (tokenizer.json before tokenizer.model in a folder) and whether its fingerprint matches the datastore's",
            HelpName = "PATH",
        };
        var command = new Command("info",
            "print a datastore's header (format version, vocabulary, token width, separator, tokenizer fingerprint, build parameters) and every shard's size")
        {
            file, verify, json, tokenizerOption,
        };
        command.SetAction(p =>
        {
            var output = p.InvocationConfiguration.Output;
            var clock = Stopwatch.StartNew();
            using var reader = DatastoreReader.Open(p.GetRequiredValue(file));
            var openMs = clock.Elapsed.TotalMilliseconds;
            double? verifyMs = null;
            if (p.GetValue(verify))
            {
                clock.Restart();
                reader.Verify();
                verifyMs = clock.Elapsed.TotalMilliseconds;
            }
            var tokenizer = p.GetValue(tokenizerOption) is { } tokenizerPath ? Tokenization.TextTokenizer.Load(tokenizerPath) : null;
            if (p.GetValue(json)) WriteJson(output, reader, openMs, verifyMs, tokenizer);
            else WriteText(output, reader, openMs, verifyMs, tokenizer);
            return Cli.Success;
        });
        return command;
    }

    private static void WriteText(TextWriter output, DatastoreReader r, double openMs, double? verifyMs, Tokenization.TextTokenizer? tokenizer)
    {
        output.WriteLine($"file:                  {r.Path} ({r.FileLength:N0} bytes, opened in {openMs:F2} ms)");
        output.WriteLine($"format version:        {r.FormatVersion}");
        output.WriteLine($"vocabulary size:       {r.VocabularySize:N0}");
        output.WriteLine($"token width:           {r.TokenWidth * 8} bits");
        output.WriteLine($"separator:             {(r.Separator < 0 ? "none" : r.Separator.ToString(System.Globalization.CultureInfo.InvariantCulture))}");
        output.WriteLine($"tokens:                {r.TokenCount:N0}");
        output.WriteLine($"max shard tokens:      {r.MaxShardTokens:N0}");
        output.WriteLine($"tokenizer fingerprint: {(r.TokenizerFingerprint.Length == 0 ? "(none)" : r.TokenizerFingerprint)}");
        if (tokenizer is not null)
        {
            output.WriteLine($"tokenizer:             {tokenizer.Description}");
            output.WriteLine($"tokenizer matches:     {(tokenizer.Fingerprint == r.TokenizerFingerprint ? "yes" : $"NO (it is {tokenizer.Fingerprint})")}");
        }
        output.WriteLine($"build parameters:      {r.BuildParameters}");
        output.WriteLine($"shards:                {r.Shards.Count}");
        foreach (var s in r.Shards)
            output.WriteLine($"  shard {s.Index}: {s.TokenCount:N0} tokens, {s.DocumentCount:N0} documents, first token {s.FirstToken:N0}");
        if (verifyMs is { } ms) output.WriteLine($"checksums:             OK (verified in {ms:F0} ms)");
    }

    private static void WriteJson(TextWriter output, DatastoreReader r, double openMs, double? verifyMs, Tokenization.TextTokenizer? tokenizer)
    {
        // Through the output writer (not the raw stream) so JSON and text share one writer and callers can redirect it.
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
        output.Write(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
        output.WriteLine();
    }
}
