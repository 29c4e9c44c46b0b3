using System.Text;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.DemoModel;

/// <summary>
/// <c>encode-lines</c>: one line of ids per input line, in the format of
/// <c>spm_encode --output_format=id</c>, so the two can be compared with <c>cmp</c>.
/// </summary>
internal static class EncodeLinesCommand
{
    public static int Run(Dictionary<string, string> options)
    {
        var tokenizer = TextTokenizer.Load(DemoModelCli.Require(options, "tokenizer"));
        var lines = File.ReadAllLines(DemoModelCli.Require(options, "in"), Encoding.UTF8);
        var output = new string[lines.Length];
        Parallel.For(0, lines.Length, () => new List<int>(), (i, _, ids) =>
        {
            ids.Clear();
            tokenizer.Encode(lines[i], ids);
            output[i] = string.Join(' ', ids);
            return ids;
        }, _ => { });
        File.WriteAllLines(DemoModelCli.Require(options, "out"), output, new UTF8Encoding(false));
        return 0;
    }
}
