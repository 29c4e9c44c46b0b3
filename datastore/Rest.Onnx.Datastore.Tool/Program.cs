using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Datastore.Format;
using Rest.Onnx.Datastore.Tool;

// rest-datastore: build, inspect and query REST datastores.
return Cli.Run(args);

namespace Rest.Onnx.Datastore.Tool
{
    internal static class Cli
    {
        public const string Usage = """
            rest-datastore: build, inspect and query REST datastores (token corpus + suffix array).

            usage: rest-datastore <verb> [options]

            verbs:
              build   build a datastore from text, JSONL or pre-tokenized files
              info    print a datastore's header and shards; --verify checks every checksum
              query   look up a prompt: longest match, occurrences, continuations and the draft tree
              tokenize  print the token ids of a text or file (no BOS/EOS), as build would store them

            Run 'rest-datastore <verb> --help' for a verb's options.
            """;

        public static int Run(string[] args)
        {
            if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
            {
                Console.WriteLine(Usage);
                return args.Length == 0 ? 2 : 0;
            }
            var rest = args[1..];
            try
            {
                return args[0] switch
                {
                    "build" => BuildCommand.Run(rest),
                    "info" => InfoCommand.Run(rest),
                    "query" => QueryCommand.Run(rest),
                    "tokenize" => TokenizeCommand.Run(rest),
                    _ => throw new UsageException($"unknown verb '{args[0]}' (expected build, info, query or tokenize)."),
                };
            }
            catch (UsageException e)
            {
                Console.Error.WriteLine($"rest-datastore: {e.Message}");
                Console.Error.WriteLine("Run 'rest-datastore --help' or 'rest-datastore <verb> --help'.");
                return 2;
            }
            catch (Exception e) when (e is DatastoreBuildException or DatastoreFormatException or TokenizerMismatchException
                                          or IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException
                                          or PlatformNotSupportedException)
            {
                Console.Error.WriteLine($"rest-datastore: error: {e.Message}");
                return 1;
            }
        }
    }
}
