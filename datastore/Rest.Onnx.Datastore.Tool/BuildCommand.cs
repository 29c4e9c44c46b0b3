using System.Diagnostics;
using System.Runtime.InteropServices;
using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Datastore.Tool;

internal static class BuildCommand
{
    private const string Help = """
        usage: rest-datastore build --output FILE [options] INPUT...

        INPUT is a file or a folder (searched recursively with --pattern).

        options:
          --output FILE            datastore file to write (written under a temporary name, renamed at the end)
          --format text|jsonl|ids  text: one document per file; jsonl: one document per line from --field;
                                   ids: one document per line of space-separated token ids   [text]
          --tokenizer PATH         tokenizer.model or model folder (required for text and jsonl)
          --field NAME             JSONL field holding the text                                [text]
          --pattern GLOB           file-name pattern inside folders, e.g. '*.py'               [*]
          --vocab-size N           vocabulary size (required for ids without --tokenizer)
          --separator ID|none      token between documents; continuations never cross it
                                   [the tokenizer's EOS id; none for ids without --tokenizer]
          --max-shard-tokens N     largest shard, at most 2147483647                           [536870912]
          --threads N              tokenization threads                                        [cores]
          --quiet                  no progress lines
        """;

    public static int Run(string[] args)
    {
        var a = new Arguments("build", args,
            ["output", "format", "tokenizer", "field", "pattern", "vocab-size", "separator", "max-shard-tokens", "threads"], ["quiet"]);
        if (a.Help)
        {
            Console.WriteLine(Help);
            return 0;
        }
        var output = a.Value("output") ?? throw new UsageException("build: --output FILE is required.");
        if (a.Positionals.Count == 0) throw new UsageException("build: give at least one input file or folder.");
        var format = a.Value("format") switch
        {
            null or "text" => CorpusFormat.Text,
            "jsonl" => CorpusFormat.Jsonl,
            "ids" => CorpusFormat.PreTokenized,
            var f => throw new UsageException($"build: --format must be text, jsonl or ids, got '{f}'."),
        };
        var tokenizerPath = a.Value("tokenizer");
        if (format != CorpusFormat.PreTokenized && tokenizerPath is null)
            throw new UsageException($"build: --format {a.Value("format") ?? "text"} needs --tokenizer.");
        var tokenizer = tokenizerPath is null ? null : TextTokenizer.Load(tokenizerPath);
        var vocab = a.Int("vocab-size", 1, int.MaxValue) ?? tokenizer?.VocabularySize
            ?? throw new UsageException("build: --format ids without --tokenizer needs --vocab-size.");
        var separator = a.Value("separator") switch
        {
            null => tokenizer?.EosId ?? DatastoreBuildOptions.NoSeparator,
            "none" => DatastoreBuildOptions.NoSeparator,
            _ => a.Int("separator", 0, vocab - 1)!.Value,
        };

        var corpus = new CorpusOptions
        {
            Format = format,
            JsonField = a.Value("field") ?? "text",
            SearchPattern = a.Value("pattern") ?? "*",
            Parallelism = a.Int("threads", 1, 1024) ?? Environment.ProcessorCount,
        };
        var options = new DatastoreBuildOptions
        {
            VocabularySize = vocab,
            Separator = separator,
            MaxShardTokens = a.Long("max-shard-tokens", 2, int.MaxValue) ?? DatastoreBuildOptions.DefaultMaxShardTokens,
            TokenizerFingerprint = tokenizer?.Fingerprint ?? string.Empty,
            Description = $"format={format}; inputs={string.Join(", ", a.Positionals)}; pattern={corpus.SearchPattern}",
        };
        var files = CorpusBuilder.ResolveInputs(a.Positionals, corpus.SearchPattern);
        var progress = a.Flag("quiet") ? null : new ConsoleProgress();
        // Ctrl+C and SIGTERM cancel the build, which deletes its temporary file (a second signal kills at once).
        using var cancel = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            if (cancel.IsCancellationRequested) return;
            context.Cancel = true;
            cancel.Cancel();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        DatastoreBuildSummary summary;
        try
        {
            summary = CorpusBuilder.Build(output, files, corpus, options, tokenizer, (IProgress<DatastoreBuildProgress>?)progress ?? new WarningsOnly(), cancel.Token);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Console.Error.WriteLine("build cancelled; no file was written.");
            return 130;
        }
        progress?.Finish();
        if (summary.SkippedSpecialFiles > 0 || summary.InvalidTextFiles > 0)
            Console.Error.WriteLine($"note: {summary.SkippedSpecialFiles} input(s) skipped as not regular files; {summary.InvalidTextFiles} input(s) binary or not valid UTF-8 ({summary.SkippedInvalidTextFiles} skipped).");
        Console.WriteLine($"wrote {summary.Path}: {summary.Tokens:N0} tokens, {summary.Documents:N0} documents, {summary.Shards} shard(s), " +
                          $"{summary.FileLength / 1048576.0:F1} MiB in {summary.Elapsed.TotalSeconds:F1} s ({summary.Tokens / Math.Max(summary.Elapsed.TotalSeconds, 1e-9) / 1e6:F2} M tokens/s)");
        return 0;
    }

    /// <summary>With --quiet: warnings only.</summary>
    private sealed class WarningsOnly : IProgress<DatastoreBuildProgress>
    {
        public void Report(DatastoreBuildProgress p)
        {
            if (p.Warning is { } warning) Console.Error.WriteLine($"warning: {warning}");
        }
    }

    /// <summary>Progress on stderr, at most a few lines per second, phase changes always.</summary>
    private sealed class ConsoleProgress : IProgress<DatastoreBuildProgress>
    {
        private readonly Stopwatch _sinceLast = Stopwatch.StartNew();
        private DatastoreBuildPhase? _lastPhase;

        public void Report(DatastoreBuildProgress p)
        {
            if (p.Warning is { } warning)
            {
                Console.Error.WriteLine($"warning: {warning}");
                return;
            }
            if (p.Phase == _lastPhase && _sinceLast.ElapsedMilliseconds < 500) return;
            _lastPhase = p.Phase;
            _sinceLast.Restart();
            var phase = p.Phase switch
            {
                DatastoreBuildPhase.Reading => "reading",
                DatastoreBuildPhase.SuffixArray => "suffix array",
                DatastoreBuildPhase.Writing => "writing",
                _ => "done",
            };
            Console.Error.WriteLine($"[{p.Elapsed:hh\\:mm\\:ss}] {phase,-12} files {p.Files:N0}  documents {p.Documents:N0}  tokens {p.Tokens:N0}  shards {p.Shards}  ({p.TokensPerSecond / 1e6:F2} M tokens/s)");
        }

        public void Finish() { }
    }
}
