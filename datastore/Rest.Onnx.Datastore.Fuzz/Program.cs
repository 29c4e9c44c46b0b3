using Rest.Onnx;
using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Datastore.Format;
using Rest.Onnx.Datastore.Reading;
using Rest.Onnx.Datastore.Search;
using SharpFuzz;

// "seed FOLDER": writes a small valid store as the first corpus file. Otherwise: the AFL++ target. Each input is
// written to a temporary file (the reader maps files), opened, verified and drafted from. A DatastoreFormatException
// is the expected outcome for most inputs; anything else escaping (or a crash) is a finding.
if (args.Length == 2 && args[0] == "seed")
{
    Directory.CreateDirectory(args[1]);
    using var writer = DatastoreWriter.Create(Path.Combine(args[1], "seed.rds"), new DatastoreBuildOptions { VocabularySize = 300, Separator = 0, MaxShardTokens = 120 });
    var random = new Random(1);
    for (var d = 0; d < 12; d++) writer.AddDocument([.. Enumerable.Range(0, 20).Select(_ => 1 + random.Next(12))]);
    writer.Complete();
    return;
}

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
