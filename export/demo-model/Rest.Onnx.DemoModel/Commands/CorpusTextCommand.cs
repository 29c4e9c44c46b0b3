using System.CommandLine;
using Rest.Onnx.DemoModel.Corpus;

namespace Rest.Onnx.DemoModel.Commands;

/// <summary><c>corpus-text</c>: the raw text of one split (files concatenated), for spm_train.</summary>
internal static class CorpusTextCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "text file to write", HelpName = "FILE", Required = true };
        var split = DemoOptions.Split();
        var corpusRoot = DemoOptions.Corpus();
        var command = new Command("corpus-text", "write the raw text of one split (files concatenated) for spm_train") { output, split.Option, corpusRoot };
        command.SetAction(p =>
        {
            var corpus = DemoCorpus.Scan(p.GetRequiredValue(corpusRoot));
            var files = DemoOptions.Select(corpus, split.Get(p));
            using (var writer = new StreamWriter(p.GetRequiredValue(output), append: false, new System.Text.UTF8Encoding(false)))
            {
                foreach (var file in files)
                {
                    var text = file.ReadText();
                    writer.Write(text);
                    if (!text.EndsWith('\n')) writer.Write('\n');
                }
            }
            p.InvocationConfiguration.Error.WriteLine($"{files.Count} files of {corpus.Files.Count} written.");
            return Cli.Success;
        });
        return command;
    }
}
