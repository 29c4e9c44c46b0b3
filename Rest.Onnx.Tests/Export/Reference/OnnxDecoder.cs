using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Rest.Onnx.Export;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Tests.Export.Reference;

/// <summary>
/// Runs an exported graph on the ONNX Runtime CPU provider with plain managed buffers (batch 1),
/// keeping the KV cache as float arrays [kvHeads, length, headSize] per layer.
/// </summary>
internal sealed class OnnxDecoder : IDisposable
{
    private readonly InferenceSession _session;
    private readonly ModelManifest _m;

    public OnnxDecoder(string folder)
    {
        _m = ModelManifest.Load(folder);
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        _session = new InferenceSession(Path.Combine(folder, _m.ModelFile), options);
        Keys = new float[_m.NumLayers][];
        Values = new float[_m.NumLayers][];
        Reset();
    }

    public ModelManifest Manifest => _m;

    public int PastLength { get; private set; }

    public float[][] Keys { get; private set; }

    public float[][] Values { get; private set; }

    public bool Float16 => _m.Dtype == ModelDType.Float16;

    public void Reset()
    {
        PastLength = 0;
        for (int l = 0; l < _m.NumLayers; l++) { Keys[l] = []; Values[l] = []; }
    }

    /// <summary>One step: tokens at given positions with an additive mask [seq, past + seq]; returns logits [seq, vocab]
    /// and appends this step's keys/values to the cache.</summary>
    public float[][] Step(ReadOnlySpan<long> tokens, ReadOnlySpan<long> positions, float[,] mask)
    {
        int seq = tokens.Length, total = PastLength + seq;
        if (mask.GetLength(0) != seq || mask.GetLength(1) != total) throw new ArgumentException("mask shape");
        var flatMask = new float[seq * total];
        for (int i = 0; i < seq; i++) for (int j = 0; j < total; j++) flatMask[i * total + j] = mask[i, j];
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(tokens.ToArray(), [1, seq])),
            NamedOnnxValue.CreateFromTensor("position_ids", new DenseTensor<long>(positions.ToArray(), [1, seq])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<float>(flatMask, [1, 1, seq, total])),
        };
        AddPast(inputs);
        return Run(inputs, seq);
    }

    /// <summary>GenAI-variant step: 2D int64 mask [past + seq] (1 keep, 0 pad).</summary>
    public float[][] StepGenAi(ReadOnlySpan<long> tokens, ReadOnlySpan<long> positions, long[] mask2d)
    {
        int seq = tokens.Length;
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(tokens.ToArray(), [1, seq])),
            NamedOnnxValue.CreateFromTensor("position_ids", new DenseTensor<long>(positions.ToArray(), [1, seq])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask2d, [1, mask2d.Length])),
        };
        AddPast(inputs);
        return Run(inputs, seq);
    }

    private void AddPast(List<NamedOnnxValue> inputs)
    {
        int[] dims = [1, _m.NumKvHeads, PastLength, _m.HeadSize];
        for (int l = 0; l < _m.NumLayers; l++)
        {
            inputs.Add(Cache(string.Format(System.Globalization.CultureInfo.InvariantCulture, _m.Inputs.PastKey, l), Keys[l], dims));
            inputs.Add(Cache(string.Format(System.Globalization.CultureInfo.InvariantCulture, _m.Inputs.PastValue, l), Values[l], dims));
        }
    }

    private NamedOnnxValue Cache(string name, float[] data, int[] dims)
        => Float16
            ? NamedOnnxValue.CreateFromTensor(name, new DenseTensor<Float16>(data.Select(v => (Float16)v).ToArray(), dims))
            : NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(data, dims));

    private float[][] Run(List<NamedOnnxValue> inputs, int seq)
    {
        using var results = _session.Run(inputs);
        var byName = results.ToDictionary(r => r.Name);
        var logits = byName["logits"].AsTensor<float>().ToArray();
        int vocab = _m.VocabSize;
        Assert.That(logits, Has.Length.EqualTo(seq * vocab));
        var rows = new float[seq][];
        for (int i = 0; i < seq; i++) rows[i] = logits.AsSpan(i * vocab, vocab).ToArray();
        for (int l = 0; l < _m.NumLayers; l++)
        {
            Keys[l] = Read(byName[string.Format(System.Globalization.CultureInfo.InvariantCulture, _m.Outputs.PresentKey, l)]);
            Values[l] = Read(byName[string.Format(System.Globalization.CultureInfo.InvariantCulture, _m.Outputs.PresentValue, l)]);
        }
        PastLength += seq;
        Assert.That(Keys[0], Has.Length.EqualTo(_m.NumKvHeads * PastLength * _m.HeadSize), "present = past followed by this step");
        return rows;
    }

    private float[] Read(DisposableNamedOnnxValue v)
        => Float16 ? v.AsTensor<Float16>().ToArray().Select(x => (float)x).ToArray() : v.AsTensor<float>().ToArray();

    /// <summary>Keeps only the given cache rows (e.g. the accepted tree path), in order.</summary>
    public void KeepRows(IReadOnlyList<int> rows)
    {
        int hd = _m.HeadSize, kvh = _m.NumKvHeads;
        for (int l = 0; l < _m.NumLayers; l++)
        {
            Keys[l] = Gather(Keys[l]);
            Values[l] = Gather(Values[l]);
        }
        PastLength = rows.Count;

        float[] Gather(float[] cache)
        {
            var result = new float[kvh * rows.Count * hd];
            for (int h = 0; h < kvh; h++)
                for (int r = 0; r < rows.Count; r++)
                    Array.Copy(cache, ((long)h * PastLength + rows[r]) * hd, result, ((long)h * rows.Count + r) * hd, hd);
            return result;
        }
    }

    public void Dispose() => _session.Dispose();
}
