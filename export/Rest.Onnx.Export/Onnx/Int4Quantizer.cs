namespace Rest.Onnx.Export.Onnx;

/// <summary>
/// Symmetric 4-bit block quantization in the layout of ONNX Runtime's <c>com.microsoft.MatMulNBits</c>: a weight of
/// [N out, K in] (Hugging Face's layout) becomes packed bytes [N, ceil(K / block), block / 2] (two values per byte, the
/// lower nibble first) and float32 scales [N * ceil(K / block)]; no zero points, so the implied zero point is 8.
/// Per block, the value of largest magnitude m gives scale = m / -8 and q = clamp(round(w / scale) + 8, 0, 15), which
/// maps m exactly and uses the full -8..7 range. A last block shorter than <c>block</c> is padded with zeros.
/// Hand-written: no served .NET package writes MatMulNBits blocks; the format is ONNX Runtime's contrib-op contract.
/// </summary>
internal static class Int4Quantizer
{
    /// <summary>Quantizes row-major <paramref name="weight"/> [n, k].</summary>
    public static (byte[] Packed, float[] Scales) Quantize(ReadOnlySpan<float> weight, int n, int k, int block)
    {
        if (block < 16 || (block & (block - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(block), block, "Block size must be a power of two of at least 16.");
        if (weight.Length != (long)n * k) throw new ArgumentException($"Weight has {weight.Length} values, expected {n}x{k}.", nameof(weight));
        var blocks = (k + block - 1) / block;
        var blob = block / 2;
        var packed = new byte[(long)n * blocks * blob];
        var scales = new float[(long)n * blocks];
        Span<byte> q = stackalloc byte[block];
        for (var row = 0; row < n; row++)
        {
            var w = weight.Slice(row * k, k);
            for (var b = 0; b < blocks; b++)
            {
                var start = b * block;
                var length = Math.Min(block, k - start);
                var values = w.Slice(start, length);
                float max = 0, maxAbs = 0;
                foreach (var v in values)
                {
                    var a = Math.Abs(v);
                    if (a > maxAbs) { maxAbs = a; max = v; }
                }
                var scale = max / -8f;
                var inverse = scale == 0 ? 0 : 1f / scale;
                q.Fill(8);
                for (var i = 0; i < length; i++) q[i] = (byte)Math.Clamp((int)MathF.Round(values[i] * inverse) + 8, 0, 15);
                var index = (long)row * blocks + b;
                scales[index] = scale;
                var outBytes = packed.AsSpan((int)(index * blob), blob);
                for (var i = 0; i < blob; i++) outBytes[i] = (byte)(q[2 * i] | (q[2 * i + 1] << 4));
            }
        }
        return (packed, scales);
    }

    /// <summary>The float weight the quantized blocks stand for (for tests and error figures).</summary>
    public static float[] Dequantize(ReadOnlySpan<byte> packed, ReadOnlySpan<float> scales, int n, int k, int block)
    {
        var blocks = (k + block - 1) / block;
        var blob = block / 2;
        var result = new float[(long)n * k];
        for (var row = 0; row < n; row++)
            for (var i = 0; i < k; i++)
            {
                var b = i / block;
                var j = i % block;
                var index = (long)row * blocks + b;
                var value = packed[(int)(index * blob + j / 2)];
                var nibble = (j & 1) == 0 ? value & 0xF : value >> 4;
                result[(long)row * k + i] = (nibble - 8) * scales[(int)index];
            }
        return result;
    }
}
