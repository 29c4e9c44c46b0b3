using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Execution;

/// <summary>
/// One model run through IOBinding: input ids, position ids and the additive mask from host buffers,
/// past and present from the <see cref="KvCache"/> (two buffers in turn, or one shared buffer for gqa graphs),
/// logits into a buffer owned here. All buffers are
/// allocated once; each run only creates the small tensor headers with the run's exact shapes
/// (ONNX Runtime requires bound shapes to equal the run's shapes).
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
    private readonly OrtValue?[] _bound;
    private readonly TensorElementType _kvType;
    private readonly long[] _shape2 = new long[2];
    private readonly long[] _shape3 = new long[3];
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
        _bound = new OrtValue?[4 + 4 * config.NumLayers];
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
        var host = OrtMemoryInfo.DefaultInstance;
        var device = _backend.MemoryInfo;
        var rowBytes = (long)_cache.HeadSize * _cache.ElementSize;
        try
        {
            _binding.ClearBoundInputs();
            _binding.ClearBoundOutputs();
            var n = 0;
            _shape2[0] = 1;
            _shape2[1] = rows;
            Bind(n++, true, _config.Inputs.InputIds, host, TensorElementType.Int64, _shape2, _inputIds.Pointer, rows * sizeof(long));
            Bind(n++, true, _config.Inputs.PositionIds, host, TensorElementType.Int64, _shape2, _positionIds.Pointer, rows * sizeof(long));
            _shape4[0] = 1;
            _shape4[1] = 1;
            _shape4[2] = rows;
            _shape4[3] = total;
            Bind(n++, true, _config.Inputs.AttentionMask, host, TensorElementType.Float, _shape4, _mask.Pointer, (long)rows * total * sizeof(float));

            _shape4[1] = _cache.KvHeads;
            _shape4[3] = _cache.HeadSize;
            for (var layer = 0; layer < _config.NumLayers; layer++)
            {
                for (var kind = 0; kind < 2; kind++)
                {
                    var isValue = kind == 1;
                    // Shared (gqa): the whole buffer is past and present; the op reads past and writes the step's rows at
                    // Length.. in place, the lengths coming from the mask's shape.
                    var pastRows = _cache.Shared ? _cache.MaxLength : past;
                    var presentRows = _cache.Shared ? _cache.MaxLength : total;
                    _shape4[2] = pastRows;
                    Bind(n++, true, _pastNames[layer * 2 + kind], device, _kvType, _shape4, _cache.Past(layer, isValue), _cache.KvHeads * pastRows * rowBytes);
                    _shape4[2] = presentRows;
                    Bind(n++, false, _presentNames[layer * 2 + kind], device, _kvType, _shape4, _cache.Present(layer, isValue), _cache.KvHeads * presentRows * rowBytes);
                }
            }
            _shape3[0] = 1;
            _shape3[1] = rows;
            _shape3[2] = _config.VocabSize;
            Bind(n, false, _config.Outputs.Logits, device, TensorElementType.Float, _shape3, _logits.Pointer, (long)rows * _config.VocabSize * sizeof(float));

            _session.RunWithBinding(runOptions, _binding);
            // Device outputs may still be in flight on the provider's stream; later copies use another stream.
            if (!_backend.IsHost) _binding.SynchronizeBoundOutputs();
        }
        finally
        {
            for (var i = 0; i < _bound.Length; i++)
            {
                _bound[i]?.Dispose();
                _bound[i] = null;
            }
        }
        _rows = rows;
        Array.Clear(_rowOnHost);
    }

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
            _backend.CopyToHost(_logits.Pointer + (nint)offset, _hostLogits.Pointer + (nint)offset, (long)vocab * sizeof(float));
            _rowOnHost[row] = true;
        }
        return new ReadOnlySpan<float>((void*)(_hostLogits.Pointer + (nint)offset), vocab);
    }

    private void Bind(int slot, bool input, string name, OrtMemoryInfo memory, TensorElementType type, long[] shape, IntPtr data, long bytes)
    {
        var value = OrtValue.CreateTensorValueWithData(memory, type, shape, data, bytes);
        _bound[slot] = value;
        if (input) _binding.BindInput(name, value);
        else _binding.BindOutput(name, value);
    }

    public void Dispose()
    {
        _binding.Dispose();
        _inputIds.Dispose();
        _positionIds.Dispose();
        _mask.Dispose();
        _logits.Dispose();
        _hostLogits?.Dispose();
    }
}
