using System.CommandLine;
using System.Text;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.DemoModel.Commands;

/// <summary>
/// <c>encode-lines</c>: one line of ids per input line, in the format of
/// <c>spm_encode --output_format=id</c>, so the two can be compared with <c>cmp</c>.
/// </summary>
internal static class EncodeLinesCommand
{
    public static Command Create()
    {
        var tokenizerPath = new Option<string>("--tokenizer") { Description = "tokenizer.model or model folder", HelpName = "PATH", Required = true };
        var input = new Option<string>("--in") { Description = "text file, encoded line by line (without the newline)", HelpName = "FILE", Required = true };
        var output = new Option<string>("--out") { Description = "file to write, one line of space-separated ids per input line", HelpName = "FILE", Required = true };
        var command = new Command("encode-lines", "encode every line to space-separated ids, like `spm_encode --output_format=id` (to compare with SentencePiece)")
        {
            tokenizerPath, input, output,
        };
        command.SetAction(p =>
        {
            var tokenizer = TextTokenizer.Load(p.GetRequiredValue(tokenizerPath));
            var lines = File.ReadAllLines(p.GetRequiredValue(input), Encoding.UTF8);
            var encoded = new string[lines.Length];
            Parallel.For(0, lines.Length, () => new List<int>(), (i, _, ids) =>
            {
                ids.Clear();
                tokenizer.Encode(lines[i], ids);
                encoded[i] = string.Join(' ', ids);
                return ids;
            }, _ => { });
            File.WriteAllLines(p.GetRequiredValue(output), encoded, new UTF8Encoding(false));
            return Cli.Success;
        });
        return command;
    }
}
