using System.IO.Hashing;
using Rest.Onnx.Datastore.Building;
using Rest.Onnx.DemoModel;
using Rest.Onnx.DemoModel.Corpus;
using Rest.Onnx.DemoModel.Corpus.Large;
using Rest.Onnx.Export;
using Rest.Onnx.Tokenization;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.DemoModel.Assets;

/// <summary>
/// Makes what the main job and the chat server run on: the exported model (and its onnxruntime-genai variant) and
/// the demo datastores (small and large), each cached under the cache folder (by default <see cref="DemoModelPaths.DefaultCache"/>)
/// with a stamp of its inputs, rebuilt only when the inputs change.
/// </summary>
public static class DemoAssets
{
    private const string StampFile = "inputs.stamp";

    /// <summary>
    /// Returns an exported folder for <paramref name="modelPath"/>: the folder itself when it already holds
    /// rest-model.json (whatever runtime variant it was exported in), else an export into the cache.
    /// Returns null for the GenAI variant when only an exported folder is given (no checkpoint to export from).
    /// </summary>
    public static string? EnsureExported(string modelPath, string cacheDir, GraphVariant variant, TextWriter log)
    {
        if (File.Exists(Path.Combine(modelPath, "rest-model.json")))
            return variant == GraphVariant.GenAI ? null : modelPath;
        if (!File.Exists(Path.Combine(modelPath, "config.json")))
            throw new DirectoryNotFoundException($"'{modelPath}' is neither an exported model (rest-model.json) nor a Hugging Face checkpoint (config.json).");

        var target = Path.Combine(cacheDir, variant switch
        {
            GraphVariant.Opset23 => "model",
            GraphVariant.Gqa => "model-gqa",
            GraphVariant.GenAI => "model-genai",
            _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, "The demo assets export the opset23, gqa and genai variants."),
        });
        var stamp = $"{variant};{HashFiles(Directory.GetFiles(modelPath).Order(StringComparer.Ordinal))}";
        if (IsFresh(target, stamp)) return target;

        log.WriteLine($"Exporting {modelPath} ({variant}) to {target} ...");
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
        var progress = new Progress<ExportProgress>(p =>
        {
            if (p.TensorIndex == p.TensorCount || p.TensorIndex % 8 == 0)
                log.WriteLine($"  tensor {p.TensorIndex}/{p.TensorCount} {p.TensorName} ({p.BytesWritten / 1e6:F1} MB written)");
        });
        var result = LlamaExporter.Export(modelPath, target, new ExportOptions { Variant = variant }, progress);
        log.WriteLine($"  wrote {result.ModelPath} ({result.TensorCount} tensors, {result.WeightBytes / 1e6:F1} MB of weights)");
        File.WriteAllText(Path.Combine(target, StampFile), stamp);
        return target;
    }

    /// <summary>
    /// The large demo datastore (<c>rest-demo-model corpus-large</c> with its defaults: demo tokenizer, both dev-prompt
    /// files excluded), built into <c>.cache/large</c> unless its manifest shows the same inputs. Always the demo
    /// tokenizer: a store for another model's tokenizer would replace the cached 100M-token build.
    /// </summary>
    public static string EnsureLargeDatastore(TextWriter log) => LargeCorpus.Ensure(new LargeCorpusOptions
    {
        Folder = DemoModelPaths.LargeCorpusCache,
        Tokenizer = DemoModelPaths.Tokenizer,
        PromptFiles = [DemoModelPaths.DevPrompts, DemoModelPaths.ContextDevPrompts],
    }, log);

    /// <summary>
    /// Builds (or reuses) the demo datastore: the non-held-out files of the demo corpus plus any extra
    /// sources, tokenized by the model's tokenizer, documents joined by its end-of-sequence id.
    /// </summary>
    public static string EnsureDemoDatastore(string cacheDir, TextTokenizer tokenizer, IReadOnlyList<string> extraCorpus, TextWriter log)
    {
        var corpus = DemoCorpus.Scan();
        var files = corpus.Training.Select(f => f.FullPath).ToList();
        if (extraCorpus.Count > 0) files.AddRange(CorpusBuilder.ResolveInputs(extraCorpus, "*.py"));
        var name = extraCorpus.Count == 0 ? "stdlib.restds" : "stdlib-plus.restds";
        var path = Path.Combine(cacheDir, name);
        var stamp = $"{tokenizer.Fingerprint};{files.Count};{HashText(string.Join('\n', files.Select(f => $"{f}:{new FileInfo(f).Length}")))}";
        var stampPath = path + ".stamp";
        // Fresh only with its build figures beside it (figures datastore-scale reports them).
        if (File.Exists(stampPath) && File.ReadAllText(stampPath) == stamp && StoreBuildFigures.TryRead(path) is not null) return path;

        log.WriteLine($"Building the demo datastore from {files.Count} files ({corpus.HeldOut.Count} held-out files excluded) ...");
        Directory.CreateDirectory(cacheDir);
        var (summary, build) = StoreBuildFigures.Measure(path, log, "demo datastore", 0, progress => CorpusBuilder.Build(
            path, files, new CorpusOptions { Format = CorpusFormat.Text },
            new DatastoreBuildOptions
            {
                VocabularySize = tokenizer.VocabularySize,
                Separator = tokenizer.EosId,
                TokenizerFingerprint = tokenizer.Fingerprint,
                Description = $"demo corpus {corpus.Root} (non-held-out){(extraCorpus.Count > 0 ? " + " + string.Join(", ", extraCorpus) : "")}",
            },
            tokenizer, progress));
        log.WriteLine($"  {summary.Tokens:N0} tokens in {summary.Documents} documents, {summary.FileLength / 1e6:F1} MB, {build.Seconds:F1} s " +
            $"(suffix array {build.SuffixArrayTokensPerSecond / 1e6:F2} M tokens/s, peak memory {build.PeakMemoryBytes / 1073741824.0:F2} GiB)");
        File.WriteAllText(stampPath, stamp);
        return path;
    }

    private static bool IsFresh(string folder, string stamp)
    {
        var path = Path.Combine(folder, StampFile);
        return File.Exists(path) && File.ReadAllText(path) == stamp;
    }

    private static string HashFiles(IEnumerable<string> files)
    {
        var hash = new XxHash3();
        foreach (var file in files)
        {
            using var stream = File.OpenRead(file);
            hash.Append(stream);
        }
        return hash.GetCurrentHashAsUInt64().ToString("x16");
    }

    private static string HashText(string text) => XxHash3.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(text)).ToString("x16");
}
