using System.CommandLine;
using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Datastore.Format;
using Rest.Onnx.Datastore.Reading;
using Rest.Onnx.Datastore.Search;
using SharpFuzz;

namespace Rest.Onnx.Datastore.Fuzz;

/// <summary>
/// The AFL++ target for the datastore reader (no arguments), and <c>seed FOLDER</c>, which writes a small valid store as the
/// first corpus file. Each input is written to a temporary file (the reader maps files), opened, verified and drafted from.
/// A <see cref="DatastoreFormatException"/> is the expected outcome for most inputs; anything else escaping (or a crash) is a finding.
/// </summary>
internal static class Program
{
    private static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the command line with its own output writers (tests pass string writers).</summary>
    internal static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = Cli.Root("Rest.Onnx.Datastore.Fuzz",
            "Coverage-guided fuzzing target for the datastore reader: run under afl-fuzz with no arguments (inputs on stdin), or 'seed FOLDER' for a seed store.");
        var folder = new Argument<string>("FOLDER") { Description = "folder to write seed.rds into (created if missing)" }.RejectingOptions();
        var seed = new Command("seed", "write a small valid store as the first corpus file") { folder };
        seed.SetAction(p =>
        {
            WriteSeed(p.GetRequiredValue(folder));
            return Cli.Success;
        });
        root.Add(seed);
        root.SetAction(_ =>
        {
            Target();
            return Cli.Success;
        });
        return Cli.Run(root, args, output, error, e => e is DatastoreBuildException);
    }

    private static void WriteSeed(string folder)
    {
        Directory.CreateDirectory(folder);
        using var writer = DatastoreWriter.Create(Path.Combine(folder, "seed.rds"), new DatastoreBuildOptions { VocabularySize = 300, Separator = 0, MaxShardTokens = 120 });
        var random = new Random(1);
        for (var d = 0; d < 12; d++) writer.AddDocument([.. Enumerable.Range(0, 20).Select(_ => 1 + random.Next(12))]);
        writer.Complete();
    }

    private static void Target()
    {
        var path = Path.Combine(Path.GetTempPath(), $"rest-fuzz-{Environment.ProcessId}.rds");
        int[][] contexts = [[1, 2, 3], [5, 6], [7, 8, 9, 10], [11, 12]];
        var tree = new DraftTree(16);
        var continuation = new int[8];
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using (var file = File.Create(path)) stream.CopyTo(file);
            try
            {
                using var reader = DatastoreReader.Open(path);
                try { reader.Verify(); } catch (DatastoreFormatException) { }
                foreach (var mode in new[] { DraftMode.Sampled, DraftMode.Exact })
                {
                    var source = new DatastoreDraftSource([reader], DraftOptions.Default with { Mode = mode, Budget = 16 });
                    foreach (var context in contexts) source.Draft(context, tree);
                }
                for (var s = 0; s < reader.Shards.Count; s++)
                    for (var i = 0; i < reader.Shards[s].TokenCount; i++)
                        reader.ReadContinuation(s, i, 1, continuation);
            }
            catch (DatastoreFormatException) { }
        });
    }
}
