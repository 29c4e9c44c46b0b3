using System.Diagnostics;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Datastore.Reading;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.DemoModel.Corpus.Large;

/// <summary>
/// The large demo datastore: the Python source of Debian packages (downloaded, never installed), filtered by
/// <see cref="CorpusExclusion"/>, in a fixed pseudo-random document order, tokenized by the demo tokenizer and
/// built by <see cref="CorpusBuilder"/> into <c>large.restds</c> with <c>large.manifest.json</c> (package versions,
/// exclusions by reason, tokens per package, build figures) and <c>large.documents.tsv</c> (the store's documents
/// in order) beside it.
/// <para>
/// Order: files sorted by XxHash3 of <c>package/path</c> (ordinal path on a tie), so every prefix of the order is a
/// uniform sample of all the packages and the same on every machine with the same package versions; the store is
/// the shortest prefix holding <see cref="LargeCorpusOptions.TokensTarget"/> tokens, and smaller stores cut from it
/// at document boundaries are nested samples (the datastore-size figure).
/// </para>
/// </summary>
public static class LargeCorpus
{
    /// <summary>The store's file name in the cache folder.</summary>
    public const string StoreFileName = "large.restds";

    /// <summary>The manifest's file name in the cache folder.</summary>
    public const string ManifestFileName = "large.manifest.json";

    /// <summary>Bumped when the rule or the order changes, so cached stores are rebuilt.</summary>
    private const string RuleVersion = "exclusion-v1;order-xxh3-package-path";

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The store, built now unless the manifest beside it shows the same inputs.</summary>
    public static string Ensure(LargeCorpusOptions options, TextWriter log)
    {
        var path = Path.Combine(options.Folder, StoreFileName);
        if (!options.Force && TryReadManifest(options.Folder) is { } manifest && File.Exists(path) && manifest.Stamp == Stamp(options, TextTokenizer.Load(options.Tokenizer)))
        {
            log.WriteLine($"Large datastore up to date: {path} ({manifest.Store.Tokens:N0} tokens; {Path.Combine(options.Folder, ManifestFileName)}).");
            return path;
        }
        return Build(options, log).Store.Path;
    }

    /// <summary>The manifest in <paramref name="folder"/>, or null when there is none (or it does not parse).</summary>
    public static LargeCorpusManifest? TryReadManifest(string folder)
    {
        var path = Path.Combine(folder, ManifestFileName);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<LargeCorpusManifest>(File.ReadAllText(path), s_json); }
        catch (JsonException) { return null; }
    }

    /// <summary>Downloads, extracts, filters, tokenizes and builds; writes the store, the manifest and the document list.</summary>
    /// <exception cref="InvalidOperationException">A package cannot be fetched or read, or the corpus holds fewer tokens than the target.</exception>
    public static LargeCorpusManifest Build(LargeCorpusOptions options, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.TokensTarget, 1);
        if (options.Packages.Count == 0) throw new ArgumentException("No packages to build the large corpus from.", nameof(options));
        var tokenizer = TextTokenizer.Load(options.Tokenizer);
        Directory.CreateDirectory(options.Folder);
        var folder = Path.GetFullPath(options.Folder);

        // 1. Packages: download (or reuse) each .deb and copy its Python files out of it.
        var packages = new List<(DebianPackage Package, ExtractedPackage Files)>();
        using (var bar = new ProgressBar(log, "packages", options.Packages.Count, "packages"))
        {
            foreach (var name in options.Packages)
            {
                bar.Report(packages.Count, name);
                var package = DebianArchive.Fetch(name, Path.Combine(folder, "debs"));
                packages.Add((package, ExtractCached(package, Path.Combine(folder, "files"))));
                bar.Report(packages.Count, name);
            }
            bar.Complete($"{packages.Sum(p => p.Files.Files.Count):N0} Python files, {packages.Sum(p => p.Files.Bytes) / 1e6:F0} MB");
        }

        // 2. The exclusion rule over every file, in corpus order (the content checks in parallel, the duplicate check in order).
        var exclusion = CorpusExclusion.ForDemo(options.StandardLibraryRoot, options.PromptFiles);
        log.WriteLine($"Exclusion rule: {exclusion.StandardLibraryFiles:N0} standard-library texts, {exclusion.PromptCount} prompts.");
        var candidates = packages
            .SelectMany(p => p.Files.Files.Select(f => new Candidate(p.Package.Name, f, Path.Combine(folder, "files", p.Package.Name, f))))
            .OrderBy(c => c.Key).ThenBy(c => c.Package, StringComparer.Ordinal).ThenBy(c => c.RelativePath, StringComparer.Ordinal).ToList();
        var inspected = new (ExclusionReason Reason, UInt128 Hash, long Bytes)[candidates.Count];
        using (var bar = new ProgressBar(log, "filter", candidates.Count, "files"))
        {
            var done = 0;
            Parallel.For(0, candidates.Count, i =>
            {
                var bytes = File.ReadAllBytes(candidates[i].FullPath);
                var (reason, hash) = exclusion.Inspect(bytes);
                inspected[i] = (reason, hash, bytes.Length);
                var n = Interlocked.Increment(ref done);
                if (n % 512 == 0) bar.Report(n);
            });
            bar.Complete();
        }
        var kept = new List<int>();
        var reasons = new ExclusionReason[candidates.Count];
        for (var i = 0; i < candidates.Count; i++)
        {
            reasons[i] = exclusion.Admit(inspected[i].Reason, inspected[i].Hash);
            if (reasons[i] == ExclusionReason.None) kept.Add(i);
        }
        var keptBytes = kept.Sum(i => inspected[i].Bytes);
        log.WriteLine($"Kept {kept.Count:N0} of {candidates.Count:N0} files ({keptBytes / 1e6:F0} MB); left out: " +
            string.Join(", ", Enum.GetValues<ExclusionReason>().Skip(1).Select(r => $"{r} {reasons.Count(x => x == r):N0}")));

        // 3. Tokenize and build: the shortest prefix of the kept files holding the target.
        var storePath = Path.Combine(folder, StoreFileName);
        var (summary, build) = StoreBuildFigures.Measure(storePath, log, "tokenize", options.TokensTarget, progress => CorpusBuilder.Build(
            storePath, [.. kept.Select(i => candidates[i].FullPath)],
            new CorpusOptions { Format = CorpusFormat.Text, SkipInvalidText = true, MaxTokens = options.TokensTarget },
            new DatastoreBuildOptions
            {
                VocabularySize = tokenizer.VocabularySize,
                Separator = tokenizer.EosId,
                TokenizerFingerprint = tokenizer.Fingerprint,
                Description = $"large demo corpus: *.py of {options.Packages.Count} Debian packages, CorpusExclusion, order by XxHash3(package/path), first {options.TokensTarget:N0} tokens",
            },
            tokenizer, progress));
        if (summary.Tokens < options.TokensTarget)
        {
            File.Delete(storePath);
            File.Delete(StoreBuildFigures.PathFor(storePath));
            throw new InvalidOperationException(
                $"The {options.Packages.Count} packages give only {summary.Tokens:N0} tokens after exclusions, below the target of {options.TokensTarget:N0}; add packages or lower the target.");
        }

        // 4. What is in the store: tokens per document (documents are the first kept files, in order).
        var documentTokens = DocumentTokens(storePath);
        if (documentTokens.Count != summary.Documents || documentTokens.Count > kept.Count)
            throw new InvalidOperationException($"The store holds {documentTokens.Count} documents, expected {summary.Documents}: the document list would not match it.");
        WriteDocumentList(Path.Combine(folder, "large.documents.tsv"), documentTokens, kept, candidates);

        var manifest = new LargeCorpusManifest
        {
            Stamp = Stamp(options, tokenizer),
            Created = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            TokenizerFingerprint = tokenizer.Fingerprint,
            TokensTarget = options.TokensTarget,
            Order = "files sorted by XxHash3-64 of the UTF-8 'package/path' (ordinal on a tie); the store is the shortest prefix holding the target",
            ExclusionRule = "CorpusExclusion: > 512 KB; NUL byte or invalid UTF-8; empty; text (line endings normalised) equal to a standard-library file's; contains a dev or context prompt verbatim; equal to a file kept before it",
            Packages = [.. packages.Select(p => Figures(p.Package, p.Files, candidates, reasons, inspected, kept, documentTokens))],
            Exclusions = Enum.GetValues<ExclusionReason>().Skip(1).ToDictionary(r => r.ToString(), r => (long)reasons.Count(x => x == r)),
            CandidateFiles = candidates.Count,
            KeptFiles = kept.Count,
            KeptBytes = keptBytes,
            Store = new StoreFigures(storePath, summary.Tokens, summary.Documents, summary.FileLength, build.Seconds, build.SuffixArraySeconds,
                build.TokensPerSecond, build.SuffixArrayTokensPerSecond, build.PeakMemoryBytes, OpenMilliseconds(storePath)),
        };
        File.WriteAllText(Path.Combine(folder, ManifestFileName), JsonSerializer.Serialize(manifest, s_json) + "\n");
        var s = manifest.Store;
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Wrote {storePath}: {s.Tokens:N0} tokens, {s.Documents:N0} documents, {s.FileBytes / 1048576.0:F0} MiB; build {s.BuildSeconds:F1} s ({s.TokensPerSecond / 1e6:F2} M tokens/s with tokenization), " +
            $"suffix array {s.SuffixArraySeconds:F1} s ({s.SuffixArrayTokensPerSecond / 1e6:F2} M tokens/s), peak memory {s.PeakMemoryBytes / 1073741824.0:F2} GiB, open {s.OpenMilliseconds:F3} ms."));
        return manifest;
    }

    private sealed record Candidate(string Package, string RelativePath, string FullPath)
    {
        public ulong Key { get; } = XxHash3.HashToUInt64(Encoding.UTF8.GetBytes($"{Package}/{RelativePath}"));
    }

    /// <summary>The package's Python files, extracted once: a stamp beside the folder names the .deb and lists the files.</summary>
    private static ExtractedPackage ExtractCached(DebianPackage package, string filesRoot)
    {
        var target = Path.Combine(filesRoot, package.Name);
        var stamp = target + ".extracted";
        var deb = Path.GetFileName(package.DebFile);
        if (File.Exists(stamp))
        {
            var lines = File.ReadAllLines(stamp);
            if (lines.Length >= 2 && lines[0] == deb)
                return new ExtractedPackage(lines[2..], long.Parse(lines[1], CultureInfo.InvariantCulture), 0);
        }
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
        var extracted = DebianArchive.ExtractPython(package.DebFile, target);
        File.WriteAllLines(stamp, [deb, extracted.Bytes.ToString(CultureInfo.InvariantCulture), .. extracted.Files]);
        return extracted;
    }

    private static PackageFigures Figures(DebianPackage package, ExtractedPackage files, List<Candidate> candidates, ExclusionReason[] reasons,
        (ExclusionReason Reason, UInt128 Hash, long Bytes)[] inspected, List<int> kept, IReadOnlyList<long> documentTokens)
    {
        long keptFiles = 0, keptBytes = 0, storeFiles = 0, storeTokens = 0;
        var excluded = Enum.GetValues<ExclusionReason>().Skip(1).ToDictionary(r => r.ToString(), _ => 0L);
        for (var i = 0; i < candidates.Count; i++)
        {
            if (candidates[i].Package != package.Name) continue;
            if (reasons[i] == ExclusionReason.None) { keptFiles++; keptBytes += inspected[i].Bytes; }
            else excluded[reasons[i].ToString()]++;
        }
        for (var d = 0; d < documentTokens.Count; d++)
        {
            if (candidates[kept[d]].Package != package.Name) continue;
            storeFiles++;
            storeTokens += documentTokens[d];
        }
        return new PackageFigures(package.Name, package.Version, Path.GetFileName(package.DebFile), files.Files.Count, files.Bytes, keptFiles, keptBytes, storeFiles, storeTokens, excluded);
    }

    /// <summary>Tokens of each document of a store, in order (documents end at a separator or at a shard's end).</summary>
    public static IReadOnlyList<long> DocumentTokens(string storePath)
    {
        using var reader = DatastoreReader.Open(storePath);
        var counts = new List<long>();
        var buffer = new int[1 << 20];
        foreach (var shard in reader.Shards)
        {
            long current = 0;
            for (var at = 0; at < shard.TokenCount;)
            {
                var n = shard.CopyTokens(at, buffer);
                foreach (var token in buffer.AsSpan(0, n))
                {
                    if (token == reader.Separator) { counts.Add(current); current = 0; }
                    else current++;
                }
                at += n;
            }
            if (current > 0) counts.Add(current);
        }
        return counts;
    }

    private static void WriteDocumentList(string path, IReadOnlyList<long> documentTokens, List<int> kept, List<Candidate> candidates)
    {
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        writer.WriteLine("document\tpackage\tpath\ttokens");
        for (var d = 0; d < documentTokens.Count; d++)
        {
            var c = candidates[kept[d]];
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{d}\t{c.Package}\t{c.RelativePath}\t{documentTokens[d]}"));
        }
    }

    /// <summary>Median of 21 opens (after one), warm page cache.</summary>
    public static double OpenMilliseconds(string storePath)
    {
        DatastoreReader.Open(storePath).Dispose();
        var times = new double[21];
        for (var i = 0; i < times.Length; i++)
        {
            var start = Stopwatch.GetTimestamp();
            DatastoreReader.Open(storePath).Dispose();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[times.Length / 2];
    }

    private static string Stamp(LargeCorpusOptions options, TextTokenizer tokenizer)
    {
        var hash = new XxHash3();
        void Add(string text) => hash.Append(Encoding.UTF8.GetBytes(text + "\n"));
        Add(RuleVersion);
        Add(tokenizer.Fingerprint);
        Add(options.TokensTarget.ToString(CultureInfo.InvariantCulture));
        foreach (var p in options.Packages) Add(p);
        foreach (var f in options.PromptFiles) hash.Append(File.ReadAllBytes(f));
        foreach (var f in DemoCorpus.Scan(options.StandardLibraryRoot).Files) Add($"{f.RelativePath}:{f.Length}");
        return hash.GetCurrentHashAsUInt64().ToString("x16", CultureInfo.InvariantCulture);
    }
}
