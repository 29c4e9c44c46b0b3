using Onnx;
using Rest.Onnx.Export.Llama;
using Rest.Onnx.Export.Safetensors;
using DataType = Onnx.TensorProto.Types.DataType;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Export.Onnx;

/// <summary>
/// Builds the Llama decoder graph from ONNX opset 23 standard ops (see docs/export.md):
/// Gather embedding; per layer RMSNormalization, Q/K/V MatMul, RotaryEmbedding (rotate-half, cos/sin tables
/// gathered by position_ids), Attention with the additive 4D mask and past/present KV (grouped-query heads via
/// kv_num_heads), output MatMul + residual, RMSNormalization, SwiGLU MLP + residual; final RMSNormalization and
/// the lm head as Gemm(transB) against [vocab, hidden] (shared with the embedding when tied).
/// Qwen2 adds its q/k/v biases after the projections; a sliding window (Mistral) lives in the mask, not the graph,
/// except in the GenAI variant whose mask subgraph applies it.
/// The gqa variant puts com.microsoft GroupQueryAttention (rotary applied outside, the 4D mask as attention_bias,
/// seqlens_k and total_sequence_length derived from the mask's shape) in place of Attention; int4 makes every linear layer
/// and the lm head com.microsoft MatMulNBits over 4-bit blocks (<see cref="Int4Quantizer"/>).
/// Weights are read, transposed (or quantized) and written one tensor at a time.
/// </summary>
internal sealed class LlamaGraph
{
    /// <summary>Masked value the GenAI variant's mask builder uses (finite, so fully padded rows stay NaN-free).</summary>
    private const float GenAiMaskedValue = -1e4f;

    private readonly LlamaConfig _config;
    private readonly SafetensorsCheckpoint _weights;
    private readonly OnnxGraphBuilder _g;
    private readonly ExportOptions _options;
    private readonly DataType _t;
    private readonly IProgress<ExportProgress>? _progress;
    private readonly int _tensorCount;
    private readonly int _blockSize;
    private int _tensorIndex;

    private LlamaGraph(LlamaConfig config, SafetensorsCheckpoint weights, OnnxGraphBuilder g, ExportOptions options, IProgress<ExportProgress>? progress)
    {
        _config = config;
        _weights = weights;
        _g = g;
        _options = options;
        _t = options.DType == ModelDType.Float16 ? DataType.Float16 : DataType.Float;
        _blockSize = options.Int4BlockSize ?? ExportOptions.DefaultInt4BlockSize;
        _progress = progress;
        // Qwen2's q/k/v biases are three more tensors per layer; int4 with a tied head writes the head's quantized copy as one more.
        _tensorCount = 2 + (config.QkvBias ? 12 : 9) * config.NumLayers + 2 + (config.TiedEmbeddings && options.DType != ModelDType.Int4 ? 0 : 1);
    }

    public static int Build(LlamaConfig config, SafetensorsCheckpoint weights, OnnxGraphBuilder g, ExportOptions options,
        int maxPositions, IProgress<ExportProgress>? progress)
    {
        var graph = new LlamaGraph(config, weights, g, options, progress);
        graph.BuildAll(maxPositions);
        return graph._tensorCount;
    }

    private void BuildAll(int maxPositions)
    {
        var c = _config;
        long h = c.HiddenSize, qWidth = (long)c.NumHeads * c.HeadSize, kvWidth = (long)c.NumKvHeads * c.HeadSize;

        var inputIds = _g.Input("input_ids", DataType.Int64, "batch", "seq");
        var positionIds = _g.Input("position_ids", DataType.Int64, "batch", "seq");
        var gqa = _options.Variant is GraphVariant.Gqa or GraphVariant.GenAIGqa;
        string mask = _options.Variant switch
        {
            GraphVariant.GenAI => BuildGenAiMask(_g.Input("attention_mask", DataType.Int64, "batch", "total"), inputIds),
            GraphVariant.GenAIGqa => _g.Input("attention_mask", DataType.Int64, "batch", "total"),
            _ => CastMask(_g.Input("attention_mask", DataType.Float, "batch", 1, "seq", "total")),
        };
        string seqlensK = "", totalLength = "";
        if (_options.Variant == GraphVariant.Gqa) (seqlensK, totalLength) = GqaLengths("attention_mask");
        if (_options.Variant == GraphVariant.GenAIGqa) (seqlensK, totalLength) = GenAiGqaLengths(mask);
        var pastKeys = new string[c.NumLayers];
        var pastValues = new string[c.NumLayers];
        for (int l = 0; l < c.NumLayers; l++)
        {
            pastKeys[l] = _g.Input($"past_key_values.{l}.key", _t, "batch", c.NumKvHeads, "past", c.HeadSize);
            pastValues[l] = _g.Input($"past_key_values.{l}.value", _t, "batch", c.NumKvHeads, "past", c.HeadSize);
        }

        var embedding = Weight(LlamaTensorNames.Embedding, transpose: false, c.VocabSize, h);
        var (cosTable, sinTable) = RotaryFrequencies.Tables(c.HeadSize, c.RopeTheta, c.RopeScaling, maxPositions);
        var cos = Table("rotary.cos_cache", cosTable, maxPositions, c.HeadSize / 2);
        var sin = Table("rotary.sin_cache", sinTable, maxPositions, c.HeadSize / 2);

        var x = _g.Node("Gather", "embed", [embedding, inputIds], OnnxAttribute.Int("axis", 0));
        for (int l = 0; l < c.NumLayers; l++)
        {
            var p = $"layers.{l}";
            // Attention block.
            var norm1 = RmsNorm(p + ".input_layernorm", x, Weight(LlamaTensorNames.InputNorm(l), false, h));
            var q = Linear(p + ".q_proj", norm1, LlamaTensorNames.QProj(l), qWidth, h);
            var k = Linear(p + ".k_proj", norm1, LlamaTensorNames.KProj(l), kvWidth, h);
            var v = Linear(p + ".v_proj", norm1, LlamaTensorNames.VProj(l), kvWidth, h);
            if (c.QkvBias)
            {
                q = _g.Node("Add", p + ".q_proj", [q, Weight(LlamaTensorNames.QBias(l), false, qWidth)]);
                k = _g.Node("Add", p + ".k_proj", [k, Weight(LlamaTensorNames.KBias(l), false, kvWidth)]);
                v = _g.Node("Add", p + ".v_proj", [v, Weight(LlamaTensorNames.VBias(l), false, kvWidth)]);
            }
            var qRot = _g.Node("RotaryEmbedding", p + ".q_rotary", [q, cos, sin, positionIds],
                OnnxAttribute.Int("interleaved", 0), OnnxAttribute.Int("num_heads", c.NumHeads));
            var kRot = _g.Node("RotaryEmbedding", p + ".k_rotary", [k, cos, sin, positionIds],
                OnnxAttribute.Int("interleaved", 0), OnnxAttribute.Int("num_heads", c.NumKvHeads));
            var attn = p + ".attn_output";
            if (gqa)
            {
                // Inputs: query, key, value, past_key, past_value, seqlens_k, total_sequence_length, cos_cache, sin_cache,
                // position_ids, attention_bias. Rotary stays outside (do_rotary = 0) with the graph's own position ids.
                _g.MicrosoftNode("GroupQueryAttention", p + ".attn",
                    [qRot, kRot, v, pastKeys[l], pastValues[l], seqlensK, totalLength, "", "", "", _options.Variant == GraphVariant.Gqa ? mask : ""],
                    [attn, $"present.{l}.key", $"present.{l}.value"],
                    OnnxAttribute.Int("num_heads", c.NumHeads), OnnxAttribute.Int("kv_num_heads", c.NumKvHeads),
                    OnnxAttribute.Float("scale", (float)(1.0 / Math.Sqrt(c.HeadSize))), OnnxAttribute.Int("do_rotary", 0));
            }
            else
            {
                _g.NodeWithOutputs("Attention", p + ".attn", [qRot, kRot, v, mask, pastKeys[l], pastValues[l]],
                    [attn, $"present.{l}.key", $"present.{l}.value"],
                    OnnxAttribute.Int("q_num_heads", c.NumHeads), OnnxAttribute.Int("kv_num_heads", c.NumKvHeads),
                    OnnxAttribute.Float("scale", (float)(1.0 / Math.Sqrt(c.HeadSize))), OnnxAttribute.Int("is_causal", 0));
            }
            var o = Linear(p + ".o_proj", attn, LlamaTensorNames.OProj(l), h, qWidth);
            x = _g.Node("Add", p + ".attn_residual", [x, o]);

            // SwiGLU MLP block: down(silu(gate(x)) * up(x)).
            var norm2 = RmsNorm(p + ".post_attention_layernorm", x, Weight(LlamaTensorNames.PostAttentionNorm(l), false, h));
            var gate = Linear(p + ".gate_proj", norm2, LlamaTensorNames.GateProj(l), c.IntermediateSize, h);
            var up = Linear(p + ".up_proj", norm2, LlamaTensorNames.UpProj(l), c.IntermediateSize, h);
            var silu = _g.Node("Mul", p + ".silu", [gate, _g.Node("Sigmoid", p + ".silu", [gate])]);
            var act = _g.Node("Mul", p + ".swiglu", [silu, up]);
            var down = Linear(p + ".down_proj", act, LlamaTensorNames.DownProj(l), h, c.IntermediateSize);
            x = _g.Node("Add", p + ".mlp_residual", [x, down]);
        }
        var final = RmsNorm("norm", x, Weight(LlamaTensorNames.FinalNorm, false, h));

        if (_options.DType == ModelDType.Int4)
        {
            // int4: the head is quantized too (a tied head gets its own quantized copy; the Gather keeps the float embedding).
            var name = c.TiedEmbeddings ? LlamaTensorNames.Embedding : LlamaTensorNames.LmHead;
            var (packed, scales) = QuantizedWeight(name, c.VocabSize, h, c.TiedEmbeddings ? "lm_head.tied" : name);
            _g.MicrosoftNode("MatMulNBits", "lm_head", [final, packed, scales], ["logits"], NBitsAttributes(c.VocabSize, h));
            Outputs(c);
            return;
        }

        // lm head: Gemm(transB=1) against the [vocab, hidden] matrix, so a tied head shares the embedding initializer.
        var head = c.TiedEmbeddings ? embedding : Weight(LlamaTensorNames.LmHead, false, c.VocabSize, h);
        var flat = _g.Node("Reshape", "lm_head", [final, _g.Int64Constant("lm_head.flat_shape", -1, h)]);
        var logits2d = _g.Node("Gemm", "lm_head", [flat, head], OnnxAttribute.Int("transB", 1));
        var batchSeq = _g.Node("Shape", "lm_head", [inputIds]);
        var shape = _g.Node("Concat", "lm_head", [batchSeq, _g.Int64Constant("lm_head.vocab", c.VocabSize)], OnnxAttribute.Int("axis", 0));
        if (_t == DataType.Float)
        {
            _g.NodeWithOutputs("Reshape", "lm_head", [logits2d, shape], ["logits"]);
        }
        else
        {
            var logits16 = _g.Node("Reshape", "lm_head", [logits2d, shape]);
            _g.NodeWithOutputs("Cast", "logits", [logits16], ["logits"], OnnxAttribute.Int("to", (long)DataType.Float));
        }
        Outputs(c);
    }

    private void Outputs(LlamaConfig c)
    {
        _g.Output("logits", DataType.Float, "batch", "seq", c.VocabSize);
        for (int l = 0; l < c.NumLayers; l++)
        {
            _g.Output($"present.{l}.key", _t, "batch", c.NumKvHeads, "total", c.HeadSize);
            _g.Output($"present.{l}.value", _t, "batch", c.NumKvHeads, "total", c.HeadSize);
        }
    }

    /// <summary>y = x W^T for a checkpoint weight W of [out, in]: MatMul against the transposed float weight, or MatMulNBits for int4.</summary>
    private string Linear(string prefix, string x, string weightName, long outFeatures, long inFeatures)
    {
        if (_options.DType != ModelDType.Int4)
            return _g.Node("MatMul", prefix, [x, Weight(weightName, true, outFeatures, inFeatures)]);
        var (packed, scales) = QuantizedWeight(weightName, outFeatures, inFeatures, weightName);
        return _g.MicrosoftNode("MatMulNBits", prefix, [x, packed, scales], NBitsAttributes(outFeatures, inFeatures));
    }

    private OnnxAttribute[] NBitsAttributes(long n, long k) =>
    [
        OnnxAttribute.Int("K", k), OnnxAttribute.Int("N", n), OnnxAttribute.Int("bits", 4),
        OnnxAttribute.Int("block_size", _blockSize), OnnxAttribute.Int("accuracy_level", _options.Int4AccuracyLevel),
    ];

    /// <summary>Reads a [n, k] checkpoint weight and writes it as MatMulNBits blocks and scales.</summary>
    private (string Packed, string Scales) QuantizedWeight(string name, long n, long k, string initializerName)
    {
        var data = _weights.ReadFloat32(name, n, k);
        var (packed, scales) = Int4Quantizer.Quantize(data, (int)n, (int)k, _blockSize);
        var blocks = (k + _blockSize - 1) / _blockSize;
        var packedName = _g.ByteInitializer(initializerName + ".q4", packed, n, blocks, _blockSize / 2);
        var scaleName = _g.Initializer(initializerName + ".scales", scales, DataType.Float, n * blocks);
        Report(name);
        return (packedName, scaleName);
    }

    /// <summary>
    /// GroupQueryAttention's lengths from the 4D mask [batch, 1, seq, total]: total_sequence_length = total and, at batch 1,
    /// seqlens_k = total - 1 (int32, as the op wants), so the runtime's inputs stay those of the opset23 graph.
    /// </summary>
    private (string SeqlensK, string Total) GqaLengths(string mask)
    {
        const string P = "gqa_lengths";
        var total = _g.Node("Shape", P, [mask], OnnxAttribute.Int("start", 3), OnnxAttribute.Int("end", 4)); // [1]
        var total32 = _g.Node("Cast", P, [total], OnnxAttribute.Int("to", (long)DataType.Int32));
        var seqlens = _g.Node("Sub", P, [total32, _g.Int32Constant(P + ".one", 1)]);
        var scalar = _g.Node("Squeeze", P, [total32, _g.Int64Constant(P + ".axis0", 0)]);
        return (seqlens, scalar);
    }

    /// <summary>
    /// genai-gqa: from the 2D mask [batch, total] (1 keep, 0 pad), seqlens_k = sum(mask, 1) - 1 and total_sequence_length =
    /// total, both int32, the way onnxruntime-genai's model builder derives them; causality is GroupQueryAttention's own.
    /// </summary>
    private (string SeqlensK, string Total) GenAiGqaLengths(string mask2d)
    {
        const string P = "genai_gqa_lengths";
        var sum = _g.Node("ReduceSum", P, [mask2d, _g.Int64Constant(P + ".axis1", 1)], OnnxAttribute.Int("keepdims", 0)); // [B]
        var seqlens = _g.Node("Cast", P, [_g.Node("Sub", P, [sum, _g.Int64Constant(P + ".one", 1)])], OnnxAttribute.Int("to", (long)DataType.Int32));
        var total = _g.Node("Shape", P, [mask2d], OnnxAttribute.Int("start", 1), OnnxAttribute.Int("end", 2));
        var scalar = _g.Node("Squeeze", P, [_g.Node("Cast", P, [total], OnnxAttribute.Int("to", (long)DataType.Int32)), _g.Int64Constant(P + ".axis0", 0)]);
        return (seqlens, scalar);
    }

    private string RmsNorm(string prefix, string x, string weight)
        => _g.Node("RMSNormalization", prefix, [x, weight],
            OnnxAttribute.Int("axis", -1), OnnxAttribute.Float("epsilon", (float)_config.RmsNormEps), OnnxAttribute.Int("stash_type", 1));

    /// <summary>The float32 additive mask is used as is, or clamped and cast for float16 (-1e9 would become -inf).</summary>
    private string CastMask(string mask)
    {
        if (_t == DataType.Float) return mask;
        var clamped = _g.Node("Max", "attention_mask", [mask, _g.ScalarConstant("attention_mask.floor", -1e4f, DataType.Float)]);
        return _g.Node("Cast", "attention_mask", [clamped], OnnxAttribute.Int("to", (long)_t));
    }

    /// <summary>
    /// GenAI variant: mask[b, 0, i, j] = 0 where key j is not padding (attention_mask[b, j] != 0) and
    /// j &lt;= past + i (causal) and, with a sliding window W, past + i - j &lt; W; else a large negative value;
    /// past = total - seq.
    /// </summary>
    private string BuildGenAiMask(string mask2d, string inputIds)
    {
        const string P = "genai_mask";
        var total = _g.Node("Shape", P, [mask2d], OnnxAttribute.Int("start", 1), OnnxAttribute.Int("end", 2));
        var seq = _g.Node("Shape", P, [inputIds], OnnxAttribute.Int("start", 1), OnnxAttribute.Int("end", 2));
        var past = _g.Node("Sub", P, [total, seq]);
        var zero = _g.Int64Constant(P + ".zero", 0);
        var one = _g.Int64Constant(P + ".one", 1);
        var axis0 = _g.Int64Constant(P + ".axis0", 0);
        string Scalar(string v) => _g.Node("Squeeze", P, [v, axis0]);
        var keyIndex = _g.Node("Range", P, [Scalar(zero), Scalar(total), Scalar(one)]);               // [T]
        var queryIndex = _g.Node("Add", P, [_g.Node("Range", P, [Scalar(zero), Scalar(seq), Scalar(one)]), past]); // [S]
        var queryColumn = _g.Node("Unsqueeze", P, [queryIndex, _g.Int64Constant(P + ".axis1", 1)]);   // [S, 1]
        var causal = _g.Node("LessOrEqual", P, [keyIndex, queryColumn]);                             // [S, T]
        if (_config.SlidingWindow is int window)
        {
            // Keep j > i' - W (i' = past + i), the window's Hugging Face convention.
            var windowStart = _g.Node("Sub", P, [queryColumn, _g.Int64Constant(P + ".window", window)]);  // [S, 1]
            causal = _g.Node("And", P, [causal, _g.Node("Greater", P, [keyIndex, windowStart])]);
        }
        var notPad = _g.Node("Cast", P, [mask2d], OnnxAttribute.Int("to", (long)DataType.Bool));     // [B, T]
        var notPad4 = _g.Node("Unsqueeze", P, [notPad, _g.Int64Constant(P + ".axes12", 1, 2)]);       // [B, 1, 1, T]
        var keep = _g.Node("And", P, [causal, notPad4]);                                             // [B, 1, S, T]
        return _g.Node("Where", P, [keep, _g.ScalarConstant(P + ".keep", 0, _t), _g.ScalarConstant(P + ".masked", GenAiMaskedValue, _t)]);
    }

    private string Table(string name, float[] values, long rows, long columns)
    {
        var result = _g.Initializer(name, values, _t, rows, columns);
        Report(name);
        return result;
    }

    /// <summary>Reads a checkpoint tensor of HF shape <paramref name="shape"/>, transposing [out, in] to [in, out] for MatMul.</summary>
    private string Weight(string name, bool transpose, params long[] shape)
    {
        var data = _weights.ReadFloat32(name, shape);
        string result;
        if (transpose)
        {
            var t = Transpose(data, (int)shape[0], (int)shape[1]);
            data = null;
            result = _g.Initializer(name, t, _t, shape[1], shape[0]);
        }
        else
        {
            result = _g.Initializer(name, data, _t, shape);
        }
        Report(name);
        return result;
    }

    private void Report(string name)
    {
        _tensorIndex++;
        _progress?.Report(new ExportProgress(_tensorIndex, _tensorCount, name, _g.InitializerBytes));
    }

    /// <summary>[rows, cols] to [cols, rows], in cache-friendly blocks.</summary>
    private static float[] Transpose(float[] a, int rows, int cols)
    {
        const int B = 32;
        var t = GC.AllocateUninitializedArray<float>(a.Length);
        for (int r0 = 0; r0 < rows; r0 += B)
            for (int c0 = 0; c0 < cols; c0 += B)
            {
                int rEnd = Math.Min(r0 + B, rows), cEnd = Math.Min(c0 + B, cols);
                for (int r = r0; r < rEnd; r++)
                    for (int c = c0; c < cEnd; c++)
                        t[(long)c * rows + r] = a[(long)r * cols + c];
            }
        return t;
    }
}
