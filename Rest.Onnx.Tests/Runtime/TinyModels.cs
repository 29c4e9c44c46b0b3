using Rest.Onnx.Export;
using Rest.Onnx.Export.Tiny;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Tests.Runtime;

/// <summary>
/// Tiny random-weight Llama models exported once per test run (by the exporter's tiny maker) into a temp
/// folder that is deleted at the end of the run.
/// </summary>
[SetUpFixture]
public sealed class TinyModels
{
    private static readonly Dictionary<string, string> Folders = [];
    private static readonly object Gate = new();
    private static string? _root;

    /// <summary>The default tiny model: 2 layers, hidden 64, 4 heads, 2 KV heads, vocabulary 512, 256 positions.</summary>
    public static readonly TinyLlamaOptions Default = new TinyLlamaOptions() with
    {
        Layers = 2, HiddenSize = 64, Heads = 4, KvHeads = 2, IntermediateSize = 128, VocabSize = 512, MaxPositions = 256, Seed = 5,
    };

    /// <summary>The demo model's committed tokenizer (export/demo-model/checkpoint/tokenizer.model).</summary>
    public static string DemoTokenizerPath() => Tokenization.TokenizerTestFiles.DemoTokenizer;

    /// <summary>Exported model folder for <paramref name="options"/> (created on first use).</summary>
    public static string Folder(TinyLlamaOptions options, ExportOptions export = default)
    {
        lock (Gate)
        {
            var key = options + "|" + export;
            if (Folders.TryGetValue(key, out var folder)) return folder;
            _root ??= Directory.CreateTempSubdirectory("rest-runtime-tests-").FullName;
            var name = $"m{Folders.Count}";
            var hf = Path.Combine(_root, name + "-hf");
            folder = Path.Combine(_root, name);
            TinyLlama.Write(hf, options);
            LlamaExporter.Export(hf, folder, export);
            Folders[key] = folder;
            return folder;
        }
    }

    /// <summary>A copy of a model folder whose rest-model.json is changed by <paramref name="edit"/>.</summary>
    public static string EditedCopy(string folder, Func<string, string> edit)
    {
        lock (Gate)
        {
            var copy = Path.Combine(_root!, "edit" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(copy);
            foreach (var file in Directory.GetFiles(folder)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            var manifest = Path.Combine(copy, ModelManifest.FileName);
            File.WriteAllText(manifest, edit(File.ReadAllText(manifest)));
            return copy;
        }
    }

    /// <summary>A copy of a model folder with one extra (or replaced) file.</summary>
    public static string CopyWithFile(string folder, string fileName, string contents)
    {
        var copy = EditedCopy(folder, manifest => manifest);
        File.WriteAllText(Path.Combine(copy, fileName), contents);
        return copy;
    }

    [OneTimeTearDown]
    public void DeleteFolders()
    {
        if (_root is not null && Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
