using System.CommandLine;
using Rest.Onnx.DemoModel.Corpus;

namespace Rest.Onnx.DemoModel.Commands;

/// <summary>Options several verbs share: the corpus root and the split.</summary>
internal static class DemoOptions
{
    public static Option<string> Corpus() => new("--corpus")
    {
        Description = "corpus root (Python standard library)",
        HelpName = "ROOT",
        DefaultValueFactory = _ => DemoCorpus.DefaultRoot,
    };

    public static Choice<bool> Split() => Cli.Choice("--split", "train: the training files; heldout: the held-out files", "train",
        ("train", false), ("heldout", true));

    public static IReadOnlyList<CorpusFile> Select(DemoCorpus corpus, bool heldOut) => heldOut ? corpus.HeldOut : corpus.Training;
}
