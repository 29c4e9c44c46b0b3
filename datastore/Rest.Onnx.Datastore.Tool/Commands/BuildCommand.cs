using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Globalization;
using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Datastore.Tool.Commands;

/// <summary><c>rest-datastore build</c>: a datastore from text, JSONL or pre-tokenized files.</summary>
internal static class BuildCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--output")
        {
            Description = "datastore file to write (written under a temporary name, renamed at the end)",
            HelpName = "FILE",
            Required = true,
        };
        var format = Cli.Choice("--format",
            "text: one document per file; jsonl: one document per line from --field; ids: one document per line of space-separated token ids",
            "text", ("text", CorpusFormat.Text), ("jsonl", CorpusFormat.Jsonl), ("ids", CorpusFormat.PreTokenized));
        var tokenizerOption = new Option<string>("--tokenizer") { Description = "tokenizer.json, tokenizer.model or model folder (tokenizer.json first; required for text and jsonl)", HelpName = "PATH" };
        var field = new Option<string>("--field") { Description = "JSONL field holding the text", HelpName = "NAME", DefaultValueFactory = _ => "text" };
        var pattern = new Option<string>("--pattern") { Description = "file-name pattern inside folders, e.g. '*.py'", HelpName = "GLOB", DefaultValueFactory = _ => "*" };
        var vocabSize = new Option<int?>("--vocab-size") { Description = "vocabulary size (required for ids without --tokenizer)", HelpName = "N" }.InRange(1, int.MaxValue);
        var separatorOption = new Option<int?>("--separator")
        {
            Description = "token between documents; continuations never cross it [default: the tokenizer's EOS id; none for ids without --tokenizer]",
            HelpName = "ID|none",
            CustomParser = r =>
            {
                var text = r.Tokens[^1].Value;
                if (text == "none") return DatastoreBuildOptions.NoSeparator;
                if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) && id >= 0) return id;
                r.AddError($"--separator must be a token id or none, got '{text}'.");
                return null;
            },
        };
        var maxShardTokens = new Option<long>("--max-shard-tokens")
        {
            Description = "largest shard, at most 2147483647",
            HelpName = "N",
            DefaultValueFactory = _ => DatastoreBuildOptions.DefaultMaxShardTokens,
        }.InRange(2, int.MaxValue);
        var threads = new Option<int>("--threads") { Description = "tokenization threads", HelpName = "N", DefaultValueFactory = _ => Environment.ProcessorCount }.InRange(1, 1024);
        var quiet = Cli.Flag("--quiet", "no progress lines");
        var inputs = new Argument<string[]>("INPUT")
        {
            Description = "a file or a folder (searched recursively with --pattern)",
            Arity = ArgumentArity.OneOrMore,
        }.RejectingOptions();

        var command = new Command("build", "build a datastore from text, JSONL or pre-tokenized files")
        {
            output, format.Option, tokenizerOption, field, pattern, vocabSize, separatorOption, maxShardTokens, threads, quiet, inputs,
        };
        command.SetAction(p =>
        {
            var stdout = p.InvocationConfiguration.Output;
            var corpusFormat = format.Get(p);
            var tokenizerPath = p.GetValue(tokenizerOption);
            if (corpusFormat != CorpusFormat.PreTokenized && tokenizerPath is null)
                throw new UsageException($"--format {(corpusFormat == CorpusFormat.Jsonl ? "jsonl" : "text")} needs --tokenizer.");
            var tokenizer = tokenizerPath is null ? null : TextTokenizer.Load(tokenizerPath);
            var vocab = p.GetValue(vocabSize) ?? tokenizer?.VocabularySize
                ?? throw new UsageException("--format ids without --tokenizer needs --vocab-size.");
            var separator = p.GetValue(separatorOption) ?? tokenizer?.EosId ?? DatastoreBuildOptions.NoSeparator;
            if (separator >= vocab) throw new UsageException($"--separator must be below the vocabulary size {vocab}, got {separator}.");
            var inputPaths = p.GetRequiredValue(inputs);

            var corpus = new CorpusOptions
            {
                Format = corpusFormat,
                JsonField = p.GetRequiredValue(field),
                SearchPattern = p.GetRequiredValue(pattern),
                Parallelism = p.GetValue(threads),
            };
            var options = new DatastoreBuildOptions
            {
                VocabularySize = vocab,
                Separator = separator,
                MaxShardTokens = p.GetValue(maxShardTokens),
                TokenizerFingerprint = tokenizer?.Fingerprint ?? string.Empty,
                Description = $"format={corpusFormat}; inputs={string.Join(", ", inputPaths)}; pattern={corpus.SearchPattern}",
            };
            var files = CorpusBuilder.ResolveInputs(inputPaths, corpus.SearchPattern);
            var error = p.InvocationConfiguration.Error;
            IProgress<DatastoreBuildProgress> progress = p.GetValue(quiet) ? new WarningsOnly(error) : new ConsoleProgress(error);
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
                summary = CorpusBuilder.Build(p.GetRequiredValue(output), files, corpus, options, tokenizer, progress, cancel.Token);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                error.WriteLine("rest-datastore: build cancelled; no file was written.");
                return 130;
            }
            if (summary.SkippedSpecialFiles > 0 || summary.InvalidTextFiles > 0)
                error.WriteLine($"note: {summary.SkippedSpecialFiles} input(s) skipped as not regular files; {summary.InvalidTextFiles} input(s) binary or not valid UTF-8 ({summary.SkippedInvalidTextFiles} skipped).");
            stdout.WriteLine($"wrote {summary.Path}: {summary.Tokens:N0} tokens, {summary.Documents:N0} documents, {summary.Shards} shard(s), " +
                             $"{summary.FileLength / 1048576.0:F1} MiB in {summary.Elapsed.TotalSeconds:F1} s ({summary.Tokens / Math.Max(summary.Elapsed.TotalSeconds, 1e-9) / 1e6:F2} M tokens/s)");
            return Cli.Success;
        });
        return command;
    }

    /// <summary>With --quiet: warnings only.</summary>
    private sealed class WarningsOnly(TextWriter error) : IProgress<DatastoreBuildProgress>
    {
        public void Report(DatastoreBuildProgress p)
        {
            if (p.Warning is { } warning) error.WriteLine($"warning: {warning}");
        }
    }

    /// <summary>Progress on stderr, at most a few lines per second, phase changes always; warnings always.</summary>
    private sealed class ConsoleProgress(TextWriter error) : IProgress<DatastoreBuildProgress>
    {
        private readonly Stopwatch _sinceLast = Stopwatch.StartNew();
        private DatastoreBuildPhase? _lastPhase;

        public void Report(DatastoreBuildProgress p)
        {
            if (p.Warning is { } warning)
            {
                error.WriteLine($"warning: {warning}");
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
            error.WriteLine($"[{p.Elapsed:hh\\:mm\\:ss}] {phase,-12} files {p.Files:N0}  documents {p.Documents:N0}  tokens {p.Tokens:N0}  shards {p.Shards}  ({p.TokensPerSecond / 1e6:F2} M tokens/s)");
        }
    }
}
