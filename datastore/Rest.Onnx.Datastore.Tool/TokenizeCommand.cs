using System.Text.Json;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Datastore.Tool;

/// <summary>
/// rest-datastore tokenize: the ids of a text exactly as given (a whole file is one text, read as
/// <c>build</c> reads a text document), no BOS/EOS added. The logic is in <see cref="Run(string, string?, string?, bool, TextWriter, TextWriter)"/>,
/// free of argument parsing, so any command-line front end can call it.
/// </summary>
internal static class TokenizeCommand
{
    public const string Help = """
        usage: rest-datastore tokenize --tokenizer PATH (TEXT | --file FILE) [--json]

        Prints the token ids of TEXT (or of the whole of FILE, read as 'build' reads a text document)
        separated by spaces, exactly as the tokenizer gives them: no BOS/EOS added, special tokens'
        text parsed as special tokens.

        options:
          --tokenizer PATH   tokenizer.json, tokenizer.model or a model folder (tokenizer.json first)
          --file FILE        tokenize this file instead of TEXT
          --json             print {"tokenizer": ..., "format": ..., "fingerprint": ..., "count": N, "ids": [...]}
        """;

    /// <summary>Runs the verb on parsed values. Exit codes: 0 done, 1 input or tokenizer error, 2 usage error.</summary>
    public static int Run(string tokenizerPath, string? text, string? file, bool json, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (string.IsNullOrEmpty(tokenizerPath))
        {
            error.WriteLine("rest-datastore: tokenize: --tokenizer PATH is required.");
            return 2;
        }
        if ((text is null) == (file is null))
        {
            error.WriteLine("rest-datastore: tokenize: give either TEXT or --file FILE.");
            return 2;
        }
        try
        {
            var tokenizer = TextTokenizer.Load(tokenizerPath);
            var input = file is null ? text! : File.ReadAllText(file);
            var ids = tokenizer.Encode(input);
            if (json)
            {
                using var buffer = new MemoryStream();
                using (var w = new Utf8JsonWriter(buffer))
                {
                    w.WriteStartObject();
                    w.WriteString("tokenizer", tokenizer.SourcePath);
                    w.WriteString("format", tokenizer.Format == TokenizerFormat.HuggingFaceJson ? "tokenizer.json" : "tokenizer.model");
                    w.WriteString("fingerprint", tokenizer.Fingerprint);
                    w.WriteNumber("count", ids.Length);
                    w.WriteStartArray("ids");
                    foreach (var id in ids) w.WriteNumberValue(id);
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
            }
            else
            {
                output.WriteLine(string.Join(' ', ids));
            }
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException
                                      or ArgumentException or PlatformNotSupportedException)
        {
            error.WriteLine($"rest-datastore: error: {e.Message}");
            return 1;
        }
    }

    /// <summary>Today's parser (Arguments); the System.CommandLine front end will call <see cref="Run(string, string?, string?, bool, TextWriter, TextWriter)"/> directly.</summary>
    public static int Run(string[] args)
    {
        var a = new Arguments("tokenize", args, ["tokenizer", "file"], ["json"]);
        if (a.Help)
        {
            Console.WriteLine(Help);
            return 0;
        }
        if (a.Positionals.Count > 1) throw new UsageException("tokenize: give the text as one argument (quote it) or use --file FILE.");
        return Run(a.Value("tokenizer") ?? "", a.Positionals.Count == 1 ? a.Positionals[0] : null, a.Value("file"), a.Flag("json"), Console.Out, Console.Error);
    }
}
