using System.Globalization;
using System.Text.Json;
using Rest.Onnx.Datastore.Format;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Datastore.Building;

/// <summary>
/// Builds a datastore from input files and folders: text files, JSONL with a chosen field, or pre-tokenized
/// ids. Text is tokenized in parallel in batches; documents are added in input order (files sorted by
/// ordinal path inside each folder), so the output is the same for any thread count.
/// </summary>
public static class CorpusBuilder
{
    private const int BatchChars = 4 << 20;
    private const int BatchDocuments = 1024;

    /// <summary>Expands inputs to files: a file stays itself; a folder gives its files matching the pattern, recursively, in ordinal order.</summary>
    /// <exception cref="DatastoreBuildException">An input does not exist or a folder cannot be listed.</exception>
    public static IReadOnlyList<string> ResolveInputs(IEnumerable<string> inputs, string searchPattern = "*")
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var files = new List<string>();
        foreach (var input in inputs)
        {
            if (File.Exists(input))
            {
                files.Add(input);
            }
            else if (Directory.Exists(input))
            {
                try
                {
                    var found = Directory.EnumerateFiles(input, searchPattern, SearchOption.AllDirectories).ToList();
                    found.Sort(StringComparer.Ordinal);
                    files.AddRange(found);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new DatastoreBuildException($"Cannot list input folder '{input}': {e.Message}", e);
                }
            }
            else
            {
                throw new DatastoreBuildException($"Input '{input}' does not exist.");
            }
        }
        return files;
    }

    /// <summary>Reads every file, tokenizes text, and writes the datastore to <paramref name="output"/>.</summary>
    /// <param name="output">The datastore file to write.</param>
    /// <param name="files">Input files (see <see cref="ResolveInputs"/>).</param>
    /// <param name="corpus">How the files hold documents.</param>
    /// <param name="options">Datastore parameters; the vocabulary size must cover the tokenizer's ids.</param>
    /// <param name="tokenizer">Required for text and JSONL; unused for pre-tokenized input.</param>
    /// <param name="progress">Receives snapshots between batches and phases.</param>
    /// <param name="cancellationToken">Stops the build (no file is left).</param>
    /// <exception cref="DatastoreBuildException">An input cannot be read or parsed, an id is out of range, the corpus is empty, or writing failed.</exception>
    /// <exception cref="ArgumentException">Text input without a tokenizer.</exception>
    public static DatastoreBuildSummary Build(
        string output, IReadOnlyList<string> files, CorpusOptions corpus, DatastoreBuildOptions options,
        TextTokenizer? tokenizer, IProgress<DatastoreBuildProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        if (corpus.Format != CorpusFormat.PreTokenized && tokenizer is null)
            throw new ArgumentException($"{corpus.Format} input needs a tokenizer.", nameof(tokenizer));
        return BuildWithEncoder(output, files, corpus, options, tokenizer is null ? null : tokenizer.Encode, progress, cancellationToken);
    }

    /// <summary>The core of <see cref="Build(string, IReadOnlyList{string}, CorpusOptions, DatastoreBuildOptions, TextTokenizer?, IProgress{DatastoreBuildProgress}?, CancellationToken)"/> over any thread-safe encoder.</summary>
    internal static DatastoreBuildSummary BuildWithEncoder(
        string output, IReadOnlyList<string> files, CorpusOptions corpus, DatastoreBuildOptions options,
        Func<string, int[]>? encode, IProgress<DatastoreBuildProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(corpus);
        if (corpus.Format != CorpusFormat.PreTokenized && encode is null)
            throw new ArgumentException($"{corpus.Format} input needs a tokenizer.", nameof(encode));
        if (files.Count == 0) throw new DatastoreBuildException("No input files: the corpus is empty.");
        ArgumentException.ThrowIfNullOrEmpty(output);
        ArgumentOutOfRangeException.ThrowIfNegative(corpus.MaxTokens, nameof(corpus.MaxTokens));
        EnsureOutputIsNotAnInput(output, files);

        using var writer = DatastoreWriter.Create(output, options, progress);
        var batch = new List<(string Source, string Text)>();
        var batchChars = 0L;
        var results = Array.Empty<int[]>();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, corpus.Parallelism), CancellationToken = cancellationToken };
        var reachedLimit = false;

        void Flush()
        {
            if (batch.Count == 0) return;
            if (results.Length < batch.Count) results = new int[batch.Count][];
            // Failures are kept per document so the one reported is the first in input order, as in a sequential build.
            var errors = new Exception?[batch.Count];
            Parallel.For(0, batch.Count, parallel, i =>
            {
                try { results[i] = ToIds(batch[i].Source, batch[i].Text, corpus.Format, encode); }
                catch (DatastoreBuildException e) { errors[i] = e; }
            });
            foreach (var error in errors)
                if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
            for (var i = 0; i < batch.Count; i++)
            {
                // Past the token limit the rest of the batch is dropped: the store is a prefix of the inputs.
                if (!reachedLimit) writer.AddDocument(results[i], batch[i].Source);
                reachedLimit = corpus.MaxTokens > 0 && writer.TokenCount >= corpus.MaxTokens;
                results[i] = [];
            }
            batch.Clear();
            batchChars = 0;
            writer.ReportReading();
        }

        long special = 0, invalid = 0, skippedInvalid = 0;
        foreach (var file in files)
        {
            if (reachedLimit) break;
            cancellationToken.ThrowIfCancellationRequested();
            // Opening a FIFO blocks until a writer appears, a device may never end: only regular files are read.
            var kind = FileKinds.Of(file);
            if (kind != FileKind.Regular)
            {
                if (kind is FileKind.Missing or FileKind.Directory) throw new DatastoreBuildException($"Cannot read input '{file}': it is {FileKinds.Describe(kind)}.");
                special++;
                writer.Warn($"skipped input '{file}': it is {FileKinds.Describe(kind)}, not a regular file.");
                continue;
            }
            byte[]? bytes = null;
            var problem = corpus.Format == CorpusFormat.Text
                ? TextCheck.Classify(bytes = ReadAllBytes(file))
                : TextCheck.Classify(file);
            if (problem is not null)
            {
                invalid++;
                if (corpus.SkipInvalidText && corpus.Format != CorpusFormat.PreTokenized)
                {
                    skippedInvalid++;
                    writer.Warn($"skipped input '{file}': {problem}.");
                    continue;
                }
                writer.Warn($"input '{file}': {problem}; bad sequences read as U+FFFD.");
            }
            foreach (var document in ReadDocuments(file, corpus, bytes))
            {
                batch.Add(document);
                batchChars += document.Text.Length;
                if (batchChars >= BatchChars || batch.Count >= BatchDocuments) Flush();
                cancellationToken.ThrowIfCancellationRequested();
                if (reachedLimit) break;
            }
            writer.FilesRead++;
        }
        Flush();
        cancellationToken.ThrowIfCancellationRequested();
        return writer.Complete() with { SkippedSpecialFiles = special, InvalidTextFiles = invalid, SkippedInvalidTextFiles = skippedInvalid };
    }

    /// <summary>
    /// Refuses an output that is one of the inputs (after resolving links, and on Linux by device and inode, so
    /// hard links count too): the build would replace its own input.
    /// </summary>
    private static void EnsureOutputIsNotAnInput(string output, IReadOnlyList<string> files)
    {
        var target = DatastoreWriter.ResolveOutput(output);
        var targetId = FileKinds.Identity(target);
        foreach (var file in files)
        {
            var full = Path.GetFullPath(file);
            try
            {
                if (File.ResolveLinkTarget(full, returnFinalTarget: true) is { } link) full = Path.GetFullPath(link.FullName);
            }
            catch (IOException) { }
            if (string.Equals(full, target, StringComparison.Ordinal)
                || (targetId is { } t && FileKinds.Identity(full) == t))
                throw new DatastoreBuildException($"Output '{output}' is also input '{file}': the build would overwrite its own input. Choose another output path.");
        }
    }

    private static byte[] ReadAllBytes(string file)
    {
        try { return File.ReadAllBytes(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatastoreBuildException($"Cannot read input '{file}': {e.Message}", e);
        }
    }

    private static IEnumerable<(string Source, string Text)> ReadDocuments(string file, CorpusOptions corpus, byte[]? bytes)
    {
        if (corpus.Format == CorpusFormat.Text)
        {
            yield return (file, bytes is null ? ReadAllText(file) : TextCheck.Decode(bytes));
            yield break;
        }
        var lineNumber = 0;
        foreach (var line in ReadLines(file))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var source = $"{file}:{lineNumber}";
            yield return corpus.Format == CorpusFormat.Jsonl ? (source, JsonField(source, line, corpus.JsonField)) : (source, line);
        }
    }

    private static string ReadAllText(string file)
    {
        try { return File.ReadAllText(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatastoreBuildException($"Cannot read input '{file}': {e.Message}", e);
        }
    }

    private static IEnumerable<string> ReadLines(string file)
    {
        StreamReader reader;
        try { reader = new StreamReader(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatastoreBuildException($"Cannot read input '{file}': {e.Message}", e);
        }
        using (reader)
        {
            while (true)
            {
                string? line;
                try { line = reader.ReadLine(); }
                catch (IOException e) { throw new DatastoreBuildException($"Cannot read input '{file}': {e.Message}", e); }
                if (line is null) yield break;
                yield return line;
            }
        }
    }

    private static string JsonField(string source, string line, string field)
    {
        try
        {
            using var json = JsonDocument.Parse(line);
            if (json.RootElement.ValueKind != JsonValueKind.Object || !json.RootElement.TryGetProperty(field, out var value))
                throw new DatastoreBuildException($"{source}: no field '{field}' in the JSON object.");
            if (value.ValueKind != JsonValueKind.String)
                throw new DatastoreBuildException($"{source}: field '{field}' is {value.ValueKind}, expected a string.");
            return value.GetString()!;
        }
        catch (JsonException e)
        {
            throw new DatastoreBuildException($"{source}: not valid JSON: {e.Message}", e);
        }
    }

    private static int[] ToIds(string source, string text, CorpusFormat format, Func<string, int[]>? encode)
    {
        if (format == CorpusFormat.PreTokenized) return ParseIds(source, text);
        try { return encode!(text); }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            throw new DatastoreBuildException($"{source}: tokenization failed: {e.Message}", e);
        }
    }

    /// <summary>Parses space-separated ids; names the line and the bad field.</summary>
    internal static int[] ParseIds(string source, string line)
    {
        var span = line.AsSpan();
        var ids = new List<int>();
        foreach (var range in span.SplitAny(" \t"))
        {
            var field = span[range];
            if (field.IsEmpty) continue;
            if (!int.TryParse(field, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var id))
                throw new DatastoreBuildException($"{source}: '{field}' is not a token id (expected space-separated integers).");
            ids.Add(id);
        }
        return [.. ids];
    }
}
