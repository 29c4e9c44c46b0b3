using Rest.Onnx.Export.Llama;
using Rest.Onnx.Export.Safetensors;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Tests.Export.Reference;

/// <summary>
/// The oracle: a plain, llama2.c-style Llama forward pass in float64, one token at a time, read straight from
/// the Hugging Face safetensors. Nothing here is shared with the exporter's graph code (the rotary frequencies,
/// including llama3 scaling, are computed again below), so agreement means both are right. Covers Mistral (a sliding
/// window: position p attends to q only when p - q &lt; window, as Hugging Face masks it) and Qwen2 (q/k/v biases).
/// </summary>
internal sealed class LlamaReference
{
    // ---- Config ----
    private readonly int _dim, _hidden, _layers, _heads, _kvHeads, _headSize, _vocab;
    private readonly double _eps;
    private readonly int _window;       // int.MaxValue without a sliding window
    private readonly double[] _invFreq; // [headSize/2]

    // ---- Weights (HF layout: linear weights are [out, in] row-major) ----
    private readonly float[] _embed;          // [vocab, dim]
    private readonly float[][] _attnNorm;     // [layer][dim]
    private readonly float[][] _wq;           // [layer][heads*headSize, dim]
    private readonly float[][] _wk;           // [layer][kvHeads*headSize, dim]
    private readonly float[][] _wv;           // [layer][kvHeads*headSize, dim]
    private readonly float[]?[] _bq, _bk, _bv; // [layer][out] q/k/v biases (Qwen2), null without
    private readonly float[][] _wo;           // [layer][dim, heads*headSize]
    private readonly float[][] _mlpNorm;      // [layer][dim]
    private readonly float[][] _wGate;        // [layer][hidden, dim]
    private readonly float[][] _wUp;          // [layer][hidden, dim]
    private readonly float[][] _wDown;        // [layer][dim, hidden]
    private readonly float[] _finalNorm;      // [dim]
    private readonly float[] _lmHead;         // [vocab, dim] (the embedding when tied)

    // ---- State: the KV cache, one row per position ----
    private readonly List<double[]>[] _keyCache;   // [layer][pos] -> [kvHeads*headSize]
    private readonly List<double[]>[] _valueCache; // [layer][pos] -> [kvHeads*headSize]

    public LlamaReference(string hfFolder)
    {
        var c = LlamaConfig.Load(hfFolder);
        (_dim, _hidden, _layers, _heads, _kvHeads, _headSize, _vocab, _eps) =
            (c.HiddenSize, c.IntermediateSize, c.NumLayers, c.NumHeads, c.NumKvHeads, c.HeadSize, c.VocabSize, c.RmsNormEps);
        _invFreq = InverseFrequencies(c);
        _window = c.SlidingWindow ?? int.MaxValue;
        using var w = SafetensorsCheckpoint.Open(hfFolder);
        float[] Read(string name) => w.ReadFloat32(name, w.Get(name).Shape);
        _embed = Read("model.embed_tokens.weight");
        _attnNorm = new float[_layers][]; _wq = new float[_layers][]; _wk = new float[_layers][]; _wv = new float[_layers][];
        _wo = new float[_layers][]; _mlpNorm = new float[_layers][]; _wGate = new float[_layers][]; _wUp = new float[_layers][];
        _wDown = new float[_layers][];
        _bq = new float[]?[_layers]; _bk = new float[]?[_layers]; _bv = new float[]?[_layers];
        for (int l = 0; l < _layers; l++)
        {
            var p = $"model.layers.{l}.";
            _attnNorm[l] = Read(p + "input_layernorm.weight");
            _wq[l] = Read(p + "self_attn.q_proj.weight");
            _wk[l] = Read(p + "self_attn.k_proj.weight");
            _wv[l] = Read(p + "self_attn.v_proj.weight");
            if (c.Architecture == "Qwen2ForCausalLM")
            {
                _bq[l] = Read(p + "self_attn.q_proj.bias");
                _bk[l] = Read(p + "self_attn.k_proj.bias");
                _bv[l] = Read(p + "self_attn.v_proj.bias");
            }
            _wo[l] = Read(p + "self_attn.o_proj.weight");
            _mlpNorm[l] = Read(p + "post_attention_layernorm.weight");
            _wGate[l] = Read(p + "mlp.gate_proj.weight");
            _wUp[l] = Read(p + "mlp.up_proj.weight");
            _wDown[l] = Read(p + "mlp.down_proj.weight");
        }
        _finalNorm = Read("model.norm.weight");
        _lmHead = c.TiedEmbeddings ? _embed : Read("lm_head.weight");
        _keyCache = new List<double[]>[_layers];
        _valueCache = new List<double[]>[_layers];
        for (int l = 0; l < _layers; l++) { _keyCache[l] = []; _valueCache[l] = []; }
    }

    public int Position => _keyCache[0].Count;

    public void Reset()
    {
        for (int l = 0; l < _layers; l++) { _keyCache[l].Clear(); _valueCache[l].Clear(); }
    }

    /// <summary>Feeds tokens one by one from the current position; returns the logits after each.</summary>
    public double[][] Run(IEnumerable<int> tokens) => tokens.Select(Forward).ToArray();

    /// <summary>One token at position <see cref="Position"/>, attending to every earlier position (causal) inside the window.</summary>
    public double[] Forward(int token)
    {
        int pos = Position;
        // Embedding.
        var x = new double[_dim];
        for (int i = 0; i < _dim; i++) x[i] = _embed[(long)token * _dim + i];

        for (int l = 0; l < _layers; l++)
        {
            // Attention: x += Wo · attention(rope(Wq·n), rope(Wk·n), Wv·n), n = rmsnorm(x).
            var n = RmsNorm(x, _attnNorm[l]);
            var q = MatMul(_wq[l], n, _heads * _headSize);
            var k = MatMul(_wk[l], n, _kvHeads * _headSize);
            var v = MatMul(_wv[l], n, _kvHeads * _headSize);
            AddBias(q, _bq[l]);
            AddBias(k, _bk[l]);
            AddBias(v, _bv[l]);
            for (int h = 0; h < _heads; h++) RotateHalf(q, h * _headSize, pos);
            for (int h = 0; h < _kvHeads; h++) RotateHalf(k, h * _headSize, pos);
            _keyCache[l].Add(k);
            _valueCache[l].Add(v);

            var attended = new double[_heads * _headSize];
            int group = _heads / _kvHeads; // query heads per kv head (grouped-query attention)
            for (int h = 0; h < _heads; h++)
            {
                int kvh = h / group;
                int first = (int)Math.Max(0L, (long)pos - _window + 1); // oldest position inside the window
                var scores = new double[pos + 1 - first];
                for (int t = first; t <= pos; t++)
                {
                    double s = 0;
                    for (int i = 0; i < _headSize; i++) s += q[h * _headSize + i] * _keyCache[l][t][kvh * _headSize + i];
                    scores[t - first] = s / Math.Sqrt(_headSize);
                }
                Softmax(scores);
                for (int t = first; t <= pos; t++)
                    for (int i = 0; i < _headSize; i++)
                        attended[h * _headSize + i] += scores[t - first] * _valueCache[l][t][kvh * _headSize + i];
            }
            var o = MatMul(_wo[l], attended, _dim);
            for (int i = 0; i < _dim; i++) x[i] += o[i];

            // SwiGLU MLP: x += Wdown · (silu(Wgate·n) * (Wup·n)), n = rmsnorm(x).
            n = RmsNorm(x, _mlpNorm[l]);
            var gate = MatMul(_wGate[l], n, _hidden);
            var up = MatMul(_wUp[l], n, _hidden);
            for (int i = 0; i < _hidden; i++) gate[i] = gate[i] / (1 + Math.Exp(-gate[i])) * up[i];
            var down = MatMul(_wDown[l], gate, _dim);
            for (int i = 0; i < _dim; i++) x[i] += down[i];
        }
        return MatMul(_lmHead, RmsNorm(x, _finalNorm), _vocab);
    }

    private static void AddBias(double[] x, float[]? bias)
    {
        if (bias is null) return;
        for (int i = 0; i < x.Length; i++) x[i] += bias[i];
    }

    private double[] RmsNorm(double[] x, float[] weight)
    {
        double ss = 0;
        foreach (var v in x) ss += v * v;
        double scale = 1 / Math.Sqrt(ss / x.Length + _eps);
        var r = new double[x.Length];
        for (int i = 0; i < x.Length; i++) r[i] = x[i] * scale * weight[i];
        return r;
    }

    /// <summary>W (rows, x.Length) · x.</summary>
    private static double[] MatMul(float[] w, double[] x, int rows)
    {
        var r = new double[rows];
        for (int o = 0; o < rows; o++)
        {
            double s = 0;
            long row = (long)o * x.Length;
            for (int i = 0; i < x.Length; i++) s += w[row + i] * x[i];
            r[o] = s;
        }
        return r;
    }

    private static void Softmax(double[] a)
    {
        double max = a.Max(), sum = 0;
        for (int i = 0; i < a.Length; i++) { a[i] = Math.Exp(a[i] - max); sum += a[i]; }
        for (int i = 0; i < a.Length; i++) a[i] /= sum;
    }

    /// <summary>Hugging Face rotate-half: pairs (i, i + half), not adjacent elements.</summary>
    private void RotateHalf(double[] v, int offset, int pos)
    {
        int half = _headSize / 2;
        for (int i = 0; i < half; i++)
        {
            double angle = pos * _invFreq[i], cos = Math.Cos(angle), sin = Math.Sin(angle);
            double a = v[offset + i], b = v[offset + half + i];
            v[offset + i] = a * cos - b * sin;
            v[offset + half + i] = b * cos + a * sin;
        }
    }

    /// <summary>theta^(-2i/d), with Llama 3 scaling: long wavelengths / factor, short kept, blended between.</summary>
    private static double[] InverseFrequencies(LlamaConfig c)
    {
        var inv = new double[c.HeadSize / 2];
        for (int i = 0; i < inv.Length; i++)
        {
            double f = Math.Pow(c.RopeTheta, -2.0 * i / c.HeadSize);
            if (c.RopeScaling is { Type: "llama3" } s)
            {
                double wavelen = 2 * Math.PI / f;
                double lowWavelen = s.OriginalMaxPositions / s.LowFreqFactor, highWavelen = s.OriginalMaxPositions / s.HighFreqFactor;
                if (wavelen > lowWavelen) f /= s.Factor;
                else if (wavelen >= highWavelen)
                {
                    double smooth = (s.OriginalMaxPositions / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                    f = (1 - smooth) * f / s.Factor + smooth * f;
                }
            }
            else if (c.RopeScaling is { Type: "linear" } lin) f /= lin.Factor;
            inv[i] = f;
        }
        return inv;
    }
}
