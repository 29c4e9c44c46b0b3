using BenchmarkDotNet.Attributes;
using Rest.Onnx.Acceptance;
using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Datastore.Reading;
using Rest.Onnx.Datastore.Search;
using Rest.Onnx.Execution;

namespace Rest.Onnx.Bench.Runtime;

/// <summary>
/// One REST step's work outside the model, each part alone and together: drafting from a datastore
/// (longest match + continuations + tree of 64), filling ids/positions/mask, greedy acceptance over the
/// tree's logits rows (vocabulary 32000), and the KV cache update (compaction of a Llama-7B-shaped layer
/// slice: 4 layers x 32 KV heads x 128 at the given prefix, fp32). No model run.
/// </summary>
// Native resources are released in [GlobalCleanup], which BenchmarkDotNet calls.
#pragma warning disable CA1001
[ShortRunJob]
[MemoryDiagnoser]
public class RestStepOverheadBenchmarks
{
    private const int Vocabulary = 32000;
    private const int Layers = 4;
    private string _storePath = "";
    private DatastoreReader _reader = null!;
    private DatastoreSearcher _searcher = null!;
    private int[] _context = null!;
    private DraftTree _tree = null!;
    private long[] _ids = null!;
    private long[] _positions = null!;
    private float[] _mask = null!;
    private ArrayLogits _logits = null!;
    private AcceptedPath _path = null!;
    private KvCache _cache = null!;
    private DeviceMemory _scratch = null!;

    /// <summary>Tokens in the KV cache.</summary>
    [Params(256, 1024)]
    public int PrefixLength { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(4);
        // 2M tokens of text with repeats (phrases drawn from a small pool), as a code corpus has.
        var phrases = Enumerable.Range(0, 2000).Select(_ => Enumerable.Range(0, random.Next(4, 30)).Select(_ => random.Next(3, Vocabulary)).ToArray()).ToArray();
        _storePath = Path.Combine(Path.GetTempPath(), $"rest-bench-{Guid.NewGuid():N}.restds");
        using (var writer = DatastoreWriter.Create(_storePath, new DatastoreBuildOptions { VocabularySize = Vocabulary }))
        {
            var document = new List<int>();
            while (writer.TokenCount + document.Count < 2_000_000)
            {
                document.AddRange(phrases[random.Next(phrases.Length)]);
                if (document.Count > 4000) { writer.AddDocument([.. document]); document.Clear(); }
            }
            writer.Complete();
        }
        _reader = DatastoreReader.Open(_storePath);
        _searcher = new DatastoreSearcher(_reader);
        // The context ends inside a frequent phrase, so the match is long and has many occurrences.
        _context = [.. Enumerable.Range(0, PrefixLength - 6).Select(_ => random.Next(3, Vocabulary)), .. phrases[0].Take(6)];
        _tree = new DraftTree(64);
        _searcher.BuildDraft(_context, _tree);
        var rows = _tree.Count + 1;
        _ids = new long[rows];
        _positions = new long[rows];
        _mask = new float[rows * (PrefixLength + rows)];
        // Logits that accept the first child at every level.
        var logitRows = new float[rows][];
        for (var r = 0; r < rows; r++)
        {
            logitRows[r] = new float[Vocabulary];
            logitRows[r][random.Next(Vocabulary)] = 1;
        }
        var node = -1;
        for (var i = 0; i < _tree.Count; i++)
        {
            if (_tree.Parents[i] != node) continue;
            Array.Clear(logitRows[node + 1]);
            logitRows[node + 1][_tree.Tokens[i]] = 1;
            node = i;
        }
        _logits = new ArrayLogits(logitRows);
        _path = new AcceptedPath(rows);
        _cache = new KvCache(CpuBackend.Instance, Layers, 32, 128, sizeof(float), PrefixLength + 80);
        _scratch = CpuBackend.Instance.Allocate(_cache.BufferBytes);
        GreedyAcceptance.Accept(_tree, _logits, _path);
        Console.WriteLine($"// draft tree: {_tree.Count} nodes, depth {_tree.MaxDepth}; accepted {_path.TokenCount} tokens");
    }

    [Benchmark]
    public int Drafting() => _searcher.BuildDraft(_context, _tree);

    [Benchmark]
    public void FillBatch() => VerificationBatch.Fill(_tree, _context[^1], PrefixLength, _ids, _positions, _mask);

    [Benchmark]
    public int Acceptance()
    {
        GreedyAcceptance.Accept(_tree, _logits, _path);
        return _path.TokenCount;
    }

    [Benchmark]
    public void CacheUpdate()
    {
        // What KvCache.Commit does after a partial accept: every layer's key and value compacted.
        var rowBytes = 128L * sizeof(float);
        for (var t = 0; t < Layers * 2; t++)
            KvCache.Compact(CpuBackend.Instance, _cache.Present(t / 2, t % 2 == 1), _scratch.Pointer, 32, rowBytes, PrefixLength, _tree.Count + 1, _path.KeptRows);
    }

    [Benchmark]
    public void WholeStepOutsideTheModel()
    {
        Drafting();
        FillBatch();
        Acceptance();
        CacheUpdate();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _scratch.Dispose();
        _cache.Dispose();
        _reader.Dispose();
        File.Delete(_storePath);
    }

    private sealed class ArrayLogits(float[][] rows) : ILogitsRows
    {
        public ReadOnlySpan<float> Row(int row) => rows[row];
    }
}
#pragma warning restore CA1001
