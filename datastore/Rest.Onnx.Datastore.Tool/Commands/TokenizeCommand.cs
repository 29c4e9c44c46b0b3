using System.CommandLine;
using System.Text.Json;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Datastore.Tool.Commands;

/// <summary>
/// <c>rest-datastore tokenize</c>: the ids of a text exactly as given (a whole file is one text, read as <c>build</c>
/// reads a text document), no BOS/EOS added. <see cref="Run"/> holds the logic on parsed values.
/// </summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var tokenizer = new Option<string>("--tokenizer")
        {
            Description = "tokenizer.json, tokenizer.model or a model folder (tokenizer.json first)",
            HelpName = "PATH",
            Required = true,
        };
        var file = new Option<string?>("--file") { Description = "tokenize this whole file instead of TEXT", HelpName = "FILE" };
        var json = Cli.Flag("--json", "print {\"tokenizer\", \"format\", \"fingerprint\", \"count\", \"ids\": [...]}");
        var text = new Argument<string?>("TEXT") { Description = "the text to tokenize", Arity = ArgumentArity.ZeroOrOne }.RejectingOptions();
        var command = new Command("tokenize", "print the token ids of a text or file (no BOS/EOS), as build would store them")
        {
            tokenizer, file, json, text,
        };
        command.SetAction(p => Run(p.GetRequiredValue(tokenizer), p.GetValue(text), p.GetValue(file), p.GetValue(json),
            p.InvocationConfiguration.Output, p.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>Runs the verb on parsed values. Exit codes: 0 done, 1 input or tokenizer error, 2 usage error.</summary>
    public static int Run(string tokenizerPath, string? text, string? file, bool json, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (string.IsNullOrEmpty(tokenizerPath))
        {
            error.WriteLine("rest-datastore: tokenize: --tokenizer PATH is required.");
            return Cli.UsageError;
        }
        if ((text is null) == (file is null))
        {
            error.WriteLine("rest-datastore: tokenize: give either TEXT or --file FILE.");
            return Cli.UsageError;
        }
        try
        {
            var loaded = TextTokenizer.Load(tokenizerPath);
            var ids = loaded.Encode(file is null ? text! : File.ReadAllText(file));
            if (!json)
            {
                output.WriteLine(string.Join(' ', ids));
                return Cli.Success;
            }
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer))
            {
                w.WriteStartObject();
                w.WriteString("tokenizer", loaded.SourcePath);
                w.WriteString("format", loaded.Format == TokenizerFormat.HuggingFaceJson ? "tokenizer.json" : "tokenizer.model");
                w.WriteString("fingerprint", loaded.Fingerprint);
                w.WriteNumber("count", ids.Length);
                w.WriteStartArray("ids");
                foreach (var id in ids) w.WriteNumberValue(id);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
            return Cli.Success;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException
                                      or ArgumentException or PlatformNotSupportedException)
        {
            error.WriteLine($"rest-datastore: error: {e.Message}");
            return Cli.Failure;
        }
    }
}
