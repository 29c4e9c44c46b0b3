using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Rest.Onnx.Execution;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Bench.Runtime;

/// <summary>
/// The bare ONNX Runtime cost: one binding over tensors created once for a (cached length, rows) shape, the same
/// ids, positions and tree mask as the engine's step, and <c>RunWithBinding</c> alone timed.
/// </summary>
internal sealed unsafe class BareRun : IDisposable
{
    private readonly RestModel _model;
    private readonly ModelManifest _config;
    private readonly int _maxContext;
    private readonly int _maxRows;
    private readonly List<DeviceMemory> _memory = [];
    private readonly DeviceMemory _ids, _positions, _mask, _logits;
    private readonly DeviceMemory[] _past, _present;
    private readonly List<OrtValue> _values = [];
    private readonly RunOptions _runOptions = new();
    private OrtIoBinding? _binding;

    public BareRun(RestModel model, int maxContext, int maxRows)
    {
        _model = model;
        _config = model.Manifest;
        _maxContext = maxContext;
        _maxRows = maxRows;
        var host = CpuBackend.Instance;
        DeviceMemory Allocate(long bytes)
        {
            var m = host.Allocate(bytes);
            _memory.Add(m);
            return m;
        }
        var total = maxContext + maxRows;
        _ids = Allocate(maxRows * sizeof(long));
        _positions = Allocate(maxRows * sizeof(long));
        _mask = Allocate((long)maxRows * total * sizeof(float));
        _logits = Allocate((long)maxRows * _config.VocabSize * sizeof(float));
        var bytes = (long)_config.NumKvHeads * (Shared ? model.MaxSequenceLength : total) * _config.HeadSize * _config.KvElementSize;
        _past = new DeviceMemory[_config.NumLayers * 2];
        _present = new DeviceMemory[_config.NumLayers * 2];
        for (var i = 0; i < _past.Length; i++)
        {
            _past[i] = Allocate(bytes);
            _present[i] = Shared ? _past[i] : Allocate(bytes);
            new Span<byte>((void*)_past[i].Pointer, checked((int)bytes)).Clear();
        }
    }

    private bool Shared => _config.GraphVariant == GraphVariant.Gqa;

    /// <summary>Creates and binds the tensors for one shape (the tree's rows at <paramref name="context"/> cached positions).</summary>
    public void Prepare(DraftTree tree, int root, int context)
    {
        if (context > _maxContext || tree.Count + 1 > _maxRows) throw new ArgumentOutOfRangeException(nameof(context));
        Release();
        var rows = tree.Count + 1;
        var total = context + rows;
        VerificationBatch.Fill(tree, root, context, new Span<long>((void*)_ids.Pointer, rows), new Span<long>((void*)_positions.Pointer, rows),
            new Span<float>((void*)_mask.Pointer, rows * total), _config.SlidingWindow);
        var binding = _model.Session.CreateIoBinding();
        _binding = binding;
        var info = OrtMemoryInfo.DefaultInstance;
        var kvType = _config.Dtype == ModelDType.Float16 ? TensorElementType.Float16 : TensorElementType.Float;
        OrtValue Value(DeviceMemory memory, TensorElementType type, long[] shape, int elementSize)
        {
            var v = OrtValue.CreateTensorValueWithData(info, type, shape, memory.Pointer, shape.Aggregate(1L, (a, b) => a * b) * elementSize);
            _values.Add(v);
            return v;
        }
        binding.BindInput(_config.Inputs.InputIds, Value(_ids, TensorElementType.Int64, [1, rows], sizeof(long)));
        binding.BindInput(_config.Inputs.PositionIds, Value(_positions, TensorElementType.Int64, [1, rows], sizeof(long)));
        binding.BindInput(_config.Inputs.AttentionMask, Value(_mask, TensorElementType.Float, [1, 1, rows, total], sizeof(float)));
        var pastRows = Shared ? _model.MaxSequenceLength : context;
        var presentRows = Shared ? _model.MaxSequenceLength : total;
        for (var layer = 0; layer < _config.NumLayers; layer++)
        {
            for (var kind = 0; kind < 2; kind++)
            {
                var i = layer * 2 + kind;
                var pastName = string.Format(CultureInfo.InvariantCulture, kind == 0 ? _config.Inputs.PastKey : _config.Inputs.PastValue, layer);
                var presentName = string.Format(CultureInfo.InvariantCulture, kind == 0 ? _config.Outputs.PresentKey : _config.Outputs.PresentValue, layer);
                binding.BindInput(pastName, Value(_past[i], kvType, [1, _config.NumKvHeads, pastRows, _config.HeadSize], _config.KvElementSize));
                binding.BindOutput(presentName, Value(_present[i], kvType, [1, _config.NumKvHeads, presentRows, _config.HeadSize], _config.KvElementSize));
            }
        }
        binding.BindOutput(_config.Outputs.Logits, Value(_logits, TensorElementType.Float, [1, rows, _config.VocabSize], sizeof(float)));
    }

    /// <summary>Milliseconds of one <c>RunWithBinding</c> (wall, or the process's CPU time).</summary>
    public double Time(bool cpuClock)
    {
        var start = Stopwatch.GetTimestamp();
        var cpuStart = cpuClock ? ProcessCpu.Milliseconds() : 0;
        _model.Session.RunWithBinding(_runOptions, _binding!);
        return cpuClock ? ProcessCpu.Milliseconds() - cpuStart : Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private void Release()
    {
        _binding?.Dispose();
        _binding = null;
        foreach (var v in _values) v.Dispose();
        _values.Clear();
    }

    public void Dispose()
    {
        Release();
        _runOptions.Dispose();
        foreach (var m in _memory) m.Dispose();
    }
}
