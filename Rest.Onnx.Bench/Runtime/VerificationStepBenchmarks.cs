using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;
using Rest.Onnx.Execution;

namespace Rest.Onnx.Bench.Runtime;

/// <summary>
/// Cost of one verification forward pass (IOBinding, the engine's own buffers) against the number of
/// tokens verified (root + draft nodes: 1 is a plain decoding step) at several cached prefix lengths,
/// on <see cref="BenchModel.Small"/> with the CPU provider. The cache is not committed, so every
/// invocation verifies against the same prefix.
/// </summary>
// Native resources are released in [GlobalCleanup], which BenchmarkDotNet calls.
#pragma warning disable CA1001
[ShortRunJob]
[MemoryDiagnoser]
public class VerificationStepBenchmarks
{
    private string _root = "";
    private RestModel _model = null!;
    private KvCache _cache = null!;
    private ForwardPass _pass = null!;
    private RunOptions _runOptions = null!;
    private DraftTree _tree = null!;

    /// <summary>Tokens verified in the step: the root plus TreeTokens - 1 draft nodes.</summary>
    [Params(1, 2, 4, 8, 16, 32, 64)]
    public int TreeTokens { get; set; }

    /// <summary>Tokens already in the KV cache.</summary>
    [Params(128, 512, 1024)]
    public int PrefixLength { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var folder = BenchModel.Export(BenchModel.Small, out _root);
        _model = RestModel.Load(folder, new ModelOptions { MaxSequenceLength = 2048 });
        var config = _model.Manifest;
        _cache = new KvCache(_model.Backend, config.NumLayers, config.NumKvHeads, config.HeadSize, config.KvElementSize, 2048);
        _pass = new ForwardPass(_model.Session, config, _model.Backend, _cache, 128);
        _runOptions = new RunOptions();
        Prefill(new Random(1));
        _tree = new DraftTree(64);
        BenchModel.FillTree(_tree, TreeTokens - 1, new Random(2), config.VocabSize);
    }

    [Benchmark]
    public void VerifyStep()
    {
        var rows = _tree.Count + 1;
        VerificationBatch.Fill(_tree, 5, _cache.Length, _pass.InputIds(rows), _pass.PositionIds(rows), _pass.Mask(rows));
        _pass.Run(rows, _runOptions);
    }

    private void Prefill(Random random)
    {
        var allRows = Enumerable.Range(0, 128).ToArray();
        while (_cache.Length < PrefixLength)
        {
            var past = _cache.Length;
            var rows = Math.Min(128, PrefixLength - past);
            var ids = _pass.InputIds(rows);
            var positions = _pass.PositionIds(rows);
            var mask = _pass.Mask(rows);
            mask.Fill(VerificationBatch.MaskedValue);
            for (var r = 0; r < rows; r++)
            {
                ids[r] = random.Next(3, _model.Manifest.VocabSize);
                positions[r] = past + r;
                mask.Slice(r * (past + rows), past + r + 1).Clear();
            }
            _pass.Run(rows, _runOptions);
            _cache.Commit(rows, allRows.AsSpan(0, rows));
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _runOptions.Dispose();
        _pass.Dispose();
        _cache.Dispose();
        _model.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
#pragma warning restore CA1001
