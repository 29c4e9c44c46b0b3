using Rest.Onnx.DemoModel.Corpus;

namespace Rest.Onnx.DemoModel;

/// <summary>Command line of <c>rest-demo-model</c>.</summary>
internal static class DemoModelCli
{
    private const string Usage = """
        rest-demo-model: the demo model's data pipeline.

          prepare --out <dir> [--tokenizer <tokenizer.model|folder>] [--corpus <root>] [--prompts <file>]
                  [--context-prompts <file>]
              Tokenizes the training and held-out splits (documents joined with EOS) into
              <dir>/train.bin and <dir>/valid.bin (uint16 little-endian ids) with <dir>/manifest.json,
              and writes the dev prompts (default export/demo-model/dev-prompts.jsonl: signature + docstring)
              and the context dev prompts (default export/demo-model/dev-prompts-context.jsonl: whole
              preceding functions or classes, then signature + docstring).
          corpus-text --out <file> [--split train|heldout] [--corpus <root>]
              Writes the raw text of one split (files concatenated) for spm_train.
          list --split train|heldout [--corpus <root>]
              Prints the relative paths of one split.
          encode-lines --tokenizer <path> --in <file> --out <file>
              Encodes every line (without its newline) to space-separated ids, like
              `spm_encode --output_format=id`; used to compare with SentencePiece.
        """;

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        try
        {
            var options = ParseOptions(args.AsSpan(1));
            switch (args[0])
            {
                case "prepare": return PrepareCommand.Run(options);
                case "corpus-text": return CorpusText(options);
                case "list": return List(options);
                case "encode-lines": return EncodeLinesCommand.Run(options);
                default:
                    Console.Error.WriteLine($"rest-demo-model: unknown command '{args[0]}'.\n{Usage}");
                    return 2;
            }
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"rest-demo-model: {e.Message}");
            return 1;
        }
    }

    internal static Dictionary<string, string> ParseOptions(ReadOnlySpan<string> args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"Expected '--name value' pairs, got '{args[i]}'.");
            options[args[i][2..]] = args[++i];
        }
        return options;
    }

    internal static string Require(Dictionary<string, string> options, string name)
        => options.TryGetValue(name, out var value) ? value : throw new ArgumentException($"Missing required option --{name}.");

    internal static IReadOnlyList<CorpusFile> SelectSplit(DemoCorpus corpus, Dictionary<string, string> options)
        => options.GetValueOrDefault("split", "train") switch
        {
            "train" => corpus.Training,
            "heldout" => corpus.HeldOut,
            var other => throw new ArgumentException($"--split must be 'train' or 'heldout', got '{other}'."),
        };

    private static int CorpusText(Dictionary<string, string> options)
    {
        var corpus = DemoCorpus.Scan(options.GetValueOrDefault("corpus", DemoCorpus.DefaultRoot));
        var files = SelectSplit(corpus, options);
        using var writer = new StreamWriter(Require(options, "out"), append: false, new System.Text.UTF8Encoding(false));
        foreach (var file in files)
        {
            var text = file.ReadText();
            writer.Write(text);
            if (!text.EndsWith('\n')) writer.Write('\n');
        }
        Console.Error.WriteLine($"{files.Count} files of {corpus.Files.Count} written.");
        return 0;
    }

    private static int List(Dictionary<string, string> options)
    {
        var corpus = DemoCorpus.Scan(options.GetValueOrDefault("corpus", DemoCorpus.DefaultRoot));
        foreach (var file in SelectSplit(corpus, options)) Console.WriteLine(file.RelativePath);
        return 0;
    }
}
