using Rest.Onnx.Export;
using Rest.Onnx.Export.Tiny;

namespace Rest.Onnx.Bench.Runtime;

/// <summary>A small random-weight Llama exported to a temp folder for the runtime benchmarks (no download).</summary>
internal static class BenchModel
{
    /// <summary>4 layers, hidden 256, 8 heads, 4 KV heads, vocabulary 4096, 2048 positions (about 6M parameters).</summary>
    public static readonly TinyLlamaOptions Small = new TinyLlamaOptions() with
    {
        Layers = 4, HiddenSize = 256, Heads = 8, KvHeads = 4, IntermediateSize = 688, VocabSize = 4096, MaxPositions = 2048, Seed = 3,
    };

    public static string Export(TinyLlamaOptions options, out string root)
    {
        root = Directory.CreateTempSubdirectory("rest-bench-").FullName;
        var hf = Path.Combine(root, "hf");
        var folder = Path.Combine(root, "onnx");
        TinyLlama.Write(hf, options);
        LlamaExporter.Export(hf, folder);
        return folder;
    }

    /// <summary>A binary-heap shaped tree of <paramref name="nodes"/> nodes (node i's parent is (i - 1) / 2).</summary>
    public static void FillTree(DraftTree tree, int nodes, Random random, int vocabulary)
    {
        tree.Clear();
        for (var i = 0; i < nodes; i++) tree.Add(random.Next(3, vocabulary), i == 0 ? -1 : (i - 1) / 2);
    }
}
