using System.Text.Json;
using Rest.Onnx.DemoModel;

namespace Rest.Onnx.Tests.Tokenization;

/// <summary>Paths of committed files the tokenizer and demo-model tests read.</summary>
internal static class TokenizerTestFiles
{
    public static string RepositoryRoot => DemoModelPaths.RepositoryRoot;

    /// <summary>The demo model's tokenizer (SentencePiece BPE, vocabulary 4096).</summary>
    public static string DemoTokenizer => DemoModelPaths.Tokenizer;

    public static string Golden => Path.Combine(RepositoryRoot, "Rest.Onnx.Tests", "Tokenization", "spm-golden.jsonl");

    /// <summary>Strings with the ids <c>spm_encode --output_format=id</c> gave them (see export/demo-model/make_golden.py).</summary>
    public static IReadOnlyList<(string Text, int[] Ids)> ReadGolden()
    {
        var cases = new List<(string, int[])>();
        foreach (var line in File.ReadLines(Golden))
        {
            if (line.Length == 0) continue;
            using var doc = JsonDocument.Parse(line);
            var text = doc.RootElement.GetProperty("text").GetString()!;
            var ids = doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            cases.Add((text, ids));
        }
        return cases;
    }
}
