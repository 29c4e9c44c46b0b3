using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Execution;

/// <summary>
/// One model run through IOBinding: input ids, position ids and the additive mask from host buffers,
/// past and present from the <see cref="KvCache"/> (two buffers in turn, or one shared buffer for gqa graphs),
/// logits into a buffer owned here. All buffers are allocated once, and so are the tensors over them whose shape
/// does not change from run to run (ids, positions and logits per row count; a shared cache's past and present,
/// bound once): a run creates only the mask's tensor, plus past and present for two-buffer caches, because
/// ONNX Runtime requires bound shapes to equal the run's shapes.
/// </summary>
internal sealed unsafe class ForwardPass : IDisposable
{
    private readonly InferenceSession _session;
    private readonly ModelManifest _config;
    private readonly IDeviceBackend _backend;
    private readonly KvCache _cache;
    private readonly OrtIoBinding _binding;
    private readonly DeviceMemory _inputIds;
    private readonly DeviceMemory _positionIds;
    private readonly DeviceMemory _mask;
    private readonly DeviceMemory _logits;
    private readonly DeviceMemory? _hostLogits; // staging for device logits rows
    private readonly bool[] _rowOnHost;
    private readonly string[] _pastNames;
    private readonly string[] _presentNames;
    private readonly OrtValue?[] _idsByRows;
    private readonly OrtValue?[] _positionsByRows;
    private readonly OrtValue?[] _logitsByRows;
    private readonly List<OrtValue> _kept = [];       // the shared cache's tensors, bound once
    private readonly OrtValue[] _stepValues;         // tensors bound for the current run only
    private int _stepCount;
    private bool _kvBound;
    private int _boundRows;
    private readonly TensorElementType _kvType;
    private readonly long[] _shape4 = new long[4];
    private int _rows;

    public ForwardPass(InferenceSession session, ModelManifest config, IDeviceBackend backend, KvCache cache, int maxRows)
    {
        _session = session;
        _config = config;
        _backend = backend;
        _cache = cache;
        MaxRows = maxRows;
        _kvType = config.Dtype == ModelDType.Float16 ? TensorElementType.Float16 : TensorElementType.Float;
        var host = CpuBackend.Instance;
        _inputIds = host.Allocate(maxRows * sizeof(long));
        _positionIds = host.Allocate(maxRows * sizeof(long));
        _mask = host.Allocate((long)maxRows * cache.MaxLength * sizeof(float));
        _logits = backend.Allocate((long)maxRows * config.VocabSize * sizeof(float));
        _hostLogits = backend.IsHost ? null : host.Allocate((long)maxRows * config.VocabSize * sizeof(float));
        _rowOnHost = new bool[maxRows];
        _pastNames = new string[config.NumLayers * 2];
        _presentNames = new string[config.NumLayers * 2];
        for (var layer = 0; layer < config.NumLayers; layer++)
        {
            _pastNames[layer * 2] = string.Format(CultureInfo.InvariantCulture, config.Inputs.PastKey, layer);
            _pastNames[layer * 2 + 1] = string.Format(CultureInfo.InvariantCulture, config.Inputs.PastValue, layer);
            _presentNames[layer * 2] = string.Format(CultureInfo.InvariantCulture, config.Outputs.PresentKey, layer);
            _presentNames[layer * 2 + 1] = string.Format(CultureInfo.InvariantCulture, config.Outputs.PresentValue, layer);
        }
        _idsByRows = new OrtValue?[maxRows + 1];
        _positionsByRows = new OrtValue?[maxRows + 1];
        _logitsByRows = new OrtValue?[maxRows + 1];
        _stepValues = new OrtValue[1 + 4 * config.NumLayers];
        _binding = session.CreateIoBinding();
    }

    /// <summary>Most rows one run takes.</summary>
    public int MaxRows { get; }

    /// <summary>Input ids of the next run's <paramref name="rows"/> rows (host memory owned by this pass).</summary>
    public Span<long> InputIds(int rows) => new((void*)_inputIds.Pointer, rows);

    /// <summary>Position ids of the next run's rows.</summary>
    public Span<long> PositionIds(int rows) => new((void*)_positionIds.Pointer, rows);

    /// <summary>Mask of the next run: [rows, cache length + rows], row-major, additive.</summary>
    public Span<float> Mask(int rows) => new((void*)_mask.Pointer, rows * (_cache.Length + rows));

    /// <summary>
    /// Runs the model on <paramref name="rows"/> rows after the cached prefix, writing the present into the
    /// cache's other buffers and the logits into this pass's buffer.
    /// </summary>
    public void Run(int rows, RunOptions runOptions)
    {
        if (rows < 1 || rows > MaxRows) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"Rows must be within 1..{MaxRows}.");
        var past = _cache.Length;
        var total = past + rows;
        if (total > _cache.MaxLength) throw new InvalidOperationException($"Sequence of {total} exceeds the cache's {_cache.MaxLength} positions.");
        var start = Stopwatch.GetTimestamp();
        try
        {
            // Inputs and outputs whose shape depends only on the row count are created once per count and rebound by name
            // when the count changes (a binding replaces what a name held); the mask's shape [1, 1, rows, past + rows]
            // changes every step.
            if (rows != _boundRows)
            {
                _binding.BindInput(_config.Inputs.InputIds, PerRows(_idsByRows, rows, _inputIds, TensorElementType.Int64, sizeof(long), 1, OrtMemoryInfo.DefaultInstance));
                _binding.BindInput(_config.Inputs.PositionIds, PerRows(_positionsByRows, rows, _positionIds, TensorElementType.Int64, sizeof(long), 1, OrtMemoryInfo.DefaultInstance));
                _binding.BindOutput(_config.Outputs.Logits, PerRows(_logitsByRows, rows, _logits, TensorElementType.Float, sizeof(float), _config.VocabSize, _backend.MemoryInfo));
                _boundRows = rows;
            }
            _shape4[0] = 1;
            _shape4[1] = 1;
            _shape4[2] = rows;
            _shape4[3] = total;
            BindStep(true, _config.Inputs.AttentionMask, OrtMemoryInfo.DefaultInstance, TensorElementType.Float, _shape4, _mask.Pointer, (long)rows * total * sizeof(float));
            // Shared (gqa): the whole buffer is past and present, bound once at the first run; the op reads past and writes
            // the step's rows at Length.. in place, the lengths coming from the mask's shape. Two buffers (opset23): the
            // past's and present's lengths, and which buffer is which, change every step.
            if (!_cache.Shared || !_kvBound) BindCache(past, total);
            var bound = Stopwatch.GetTimestamp();
            LastBindTicks = bound - start;
            _session.RunWithBinding(runOptions, _binding);
            // Device outputs may still be in flight on the provider's stream; later copies use another stream.
            if (!_backend.IsHost) _binding.SynchronizeBoundOutputs();
            LastRunTicks = Stopwatch.GetTimestamp() - bound;
        }
        finally
        {
            // The binding holds its own reference to each tensor; the step's headers are released now.
            for (var i = 0; i < _stepCount; i++)
            {
                _stepValues[i].Dispose();
                _stepValues[i] = null!;
            }
            _stepCount = 0;
        }
        _rows = rows;
        ReadbackTicks = 0;
        Array.Clear(_rowOnHost);
    }

    /// <summary>Binds every layer's past and present over the cache's buffers.</summary>
    private void BindCache(int past, int total)
    {
        var device = _backend.MemoryInfo;
        var rowBytes = (long)_cache.HeadSize * _cache.ElementSize;
        var pastRows = _cache.Shared ? _cache.MaxLength : past;
        var presentRows = _cache.Shared ? _cache.MaxLength : total;
        for (var layer = 0; layer < _config.NumLayers; layer++)
        {
            for (var kind = 0; kind < 2; kind++)
            {
                var isValue = kind == 1;
                var pastShape = new long[] { 1, _cache.KvHeads, pastRows, _cache.HeadSize };
                var presentShape = new long[] { 1, _cache.KvHeads, presentRows, _cache.HeadSize };
                if (_cache.Shared)
                {
                    // Constant over the generator's life: kept (and bound) until the pass is disposed.
                    _kept.Add(Bind(true, _pastNames[layer * 2 + kind], device, _kvType, pastShape, _cache.Past(layer, isValue), _cache.KvHeads * pastRows * rowBytes));
                    _kept.Add(Bind(false, _presentNames[layer * 2 + kind], device, _kvType, presentShape, _cache.Present(layer, isValue), _cache.KvHeads * presentRows * rowBytes));
                }
                else
                {
                    _shape4[0] = 1;
                    _shape4[1] = _cache.KvHeads;
                    _shape4[2] = pastRows;
                    _shape4[3] = _cache.HeadSize;
                    BindStep(true, _pastNames[layer * 2 + kind], device, _kvType, _shape4, _cache.Past(layer, isValue), _cache.KvHeads * pastRows * rowBytes);
                    _shape4[2] = presentRows;
                    BindStep(false, _presentNames[layer * 2 + kind], device, _kvType, _shape4, _cache.Present(layer, isValue), _cache.KvHeads * presentRows * rowBytes);
                }
            }
        }
        _kvBound = true;
    }

    /// <summary>Ticks the last <see cref="Run"/> spent creating and binding its tensors.</summary>
    public long LastBindTicks { get; private set; }

    /// <summary>Ticks of the last <see cref="Run"/>'s ONNX Runtime run (and device synchronisation).</summary>
    public long LastRunTicks { get; private set; }

    /// <summary>Ticks spent copying logits rows to the host since the last <see cref="Run"/> (device providers only).</summary>
    public long ReadbackTicks { get; private set; }

    /// <summary>
    /// Logits of one row of the last run. The span points into memory owned by this pass and stays valid
    /// until the next <see cref="Run"/>; on CUDA only the rows asked for are copied to the host.
    /// </summary>
    public ReadOnlySpan<float> LogitsRow(int row)
    {
        if ((uint)row >= (uint)_rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"The last run had {_rows} rows.");
        var vocab = _config.VocabSize;
        var offset = (long)row * vocab * sizeof(float);
        if (_hostLogits is null) return new ReadOnlySpan<float>((void*)(_logits.Pointer + (nint)offset), vocab);
        if (!_rowOnHost[row])
        {
            var start = Stopwatch.GetTimestamp();
            _backend.CopyToHost(_logits.Pointer + (nint)offset, _hostLogits.Pointer + (nint)offset, (long)vocab * sizeof(float));
            _rowOnHost[row] = true;
            ReadbackTicks += Stopwatch.GetTimestamp() - start;
        }
        return new ReadOnlySpan<float>((void*)(_hostLogits.Pointer + (nint)offset), vocab);
    }

    /// <summary>The tensor of <paramref name="rows"/> rows over <paramref name="memory"/>, created on first use and kept.</summary>
    private OrtValue PerRows(OrtValue?[] cache, int rows, DeviceMemory memory, TensorElementType type, int elementSize, int width, OrtMemoryInfo info)
    {
        if (cache[rows] is { } value) return value;
        long[] shape = width == 1 ? [1, rows] : [1, rows, width];
        value = OrtValue.CreateTensorValueWithData(info, type, shape, memory.Pointer, (long)rows * width * elementSize);
        cache[rows] = value;
        return value;
    }

    /// <summary>Binds a tensor whose shape holds for this run only; it is released after the run.</summary>
    private void BindStep(bool input, string name, OrtMemoryInfo memory, TensorElementType type, long[] shape, IntPtr data, long bytes)
        => _stepValues[_stepCount++] = Bind(input, name, memory, type, shape, data, bytes);

    private OrtValue Bind(bool input, string name, OrtMemoryInfo memory, TensorElementType type, long[] shape, IntPtr data, long bytes)
    {
        var value = OrtValue.CreateTensorValueWithData(memory, type, shape, data, bytes);
        if (input) _binding.BindInput(name, value);
        else _binding.BindOutput(name, value);
        return value;
    }

    public void Dispose()
    {
        _binding.Dispose();
        foreach (var cache in (OrtValue?[][])[_idsByRows, _positionsByRows, _logitsByRows])
            foreach (var value in cache) value?.Dispose();
        foreach (var value in _kept) value.Dispose();
        _inputIds.Dispose();
        _positionIds.Dispose();
        _mask.Dispose();
        _logits.Dispose();
        _hostLogits?.Dispose();
    }
}
