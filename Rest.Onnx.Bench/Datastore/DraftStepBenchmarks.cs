using BenchmarkDotNet.Attributes;
using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Datastore.Reading;
using Rest.Onnx.Datastore.Search;

namespace Rest.Onnx.Bench.Datastore;

/// <summary>
/// One full draft step (longest match 16..2 + continuations + tree of 64) on a 10M-token synthetic store, for
/// both count modes. Contexts come from a held-out stream of the same chain, so matches look like real ones
/// (short, frequent) rather than the trivial self-match. The 100M-token figures come from <see cref="DatastoreFigures"/>.
/// Meant for <c>--job short</c>.
/// </summary>
[MemoryDiagnoser]
public class DraftStepBenchmarks
{
    private string _folder = string.Empty;
    private DatastoreReader? _reader;
    private DatastoreSearcher? _searcher;
    private readonly DraftTree _tree = new(64);
    private int[][] _contexts = [];
    private int _next;

    /// <summary>How counts are gathered.</summary>
    [Params(DraftMode.Sampled, DraftMode.Exact)]
    public DraftMode Mode { get; set; }

    /// <summary>Builds the store and the contexts.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _folder = Directory.CreateTempSubdirectory("rest-bench-").FullName;
        var path = Path.Combine(_folder, "bench.rds");
        DatastoreFigures.BuildStore(path, SyntheticTokens.Generate(10_000_000, streamSeed: 1));
        _reader = DatastoreReader.Open(path);
        _searcher = new DatastoreSearcher(_reader, DraftOptions.Default with { Mode = Mode });
        _contexts = DatastoreFigures.Contexts(1024, 16);
    }

    /// <summary>One draft step on the next context.</summary>
    [Benchmark]
    public int DraftStep()
    {
        var context = _contexts[_next++ & 1023];
        return _searcher!.BuildDraft(context, _tree);
    }

    /// <summary>Deletes the store.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _reader?.Dispose();
        Directory.Delete(_folder, true);
    }
}
