using System.CommandLine;
using Rest.Onnx.DemoModel.Corpus;

namespace Rest.Onnx.DemoModel.Commands;

/// <summary><c>list</c>: the relative paths of one split.</summary>
internal static class ListCommand
{
    public static Command Create()
    {
        var split = DemoOptions.Split();
        var corpusRoot = DemoOptions.Corpus();
        var command = new Command("list", "print the relative paths of one split") { split.Option, corpusRoot };
        command.SetAction(p =>
        {
            var corpus = DemoCorpus.Scan(p.GetRequiredValue(corpusRoot));
            foreach (var file in DemoOptions.Select(corpus, split.Get(p))) p.InvocationConfiguration.Output.WriteLine(file.RelativePath);
            return Cli.Success;
        });
        return command;
    }
}
