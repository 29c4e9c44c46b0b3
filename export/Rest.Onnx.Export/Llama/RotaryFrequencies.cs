using Rest.Onnx.Manifest;

namespace Rest.Onnx.Export.Llama;

/// <summary>Rotary embedding frequencies and the cos/sin tables the graph gathers by position id.</summary>
internal static class RotaryFrequencies
{
    /// <summary>
    /// Inverse frequencies <c>theta^(-2i/headSize)</c> for i in [0, headSize/2), scaled as <paramref name="scaling"/> says
    /// (the same formula as Hugging Face's rope initialisation for "llama3" and "linear").
    /// </summary>
    public static double[] Inverse(int headSize, double theta, RopeScaling? scaling)
    {
        int half = headSize / 2;
        var inv = new double[half];
        for (int i = 0; i < half; i++) inv[i] = 1.0 / Math.Pow(theta, 2.0 * i / headSize);
        if (scaling is null) return inv;
        if (scaling.Type == "linear")
        {
            for (int i = 0; i < half; i++) inv[i] /= scaling.Factor;
            return inv;
        }
        // llama3: long wavelengths are divided by the factor, short ones kept, the band between blended.
        double lowWavelen = scaling.OriginalMaxPositions / scaling.LowFreqFactor;
        double highWavelen = scaling.OriginalMaxPositions / scaling.HighFreqFactor;
        for (int i = 0; i < half; i++)
        {
            double wavelen = 2 * Math.PI / inv[i];
            if (wavelen < highWavelen) continue;
            if (wavelen > lowWavelen) { inv[i] /= scaling.Factor; continue; }
            double smooth = (scaling.OriginalMaxPositions / wavelen - scaling.LowFreqFactor) / (scaling.HighFreqFactor - scaling.LowFreqFactor);
            inv[i] = (1 - smooth) * inv[i] / scaling.Factor + smooth * inv[i];
        }
        return inv;
    }

    /// <summary>Largest rotary table, in floats (1 GiB): Llama 3.1's 131,072 positions need 8M; a wild
    /// <c>max_position_embeddings</c> must fail with a message, not exhaust memory.</summary>
    public const int MaxTableElements = 1 << 28;

    /// <summary>Most positions the rotary tables hold for <paramref name="headSize"/> (<see cref="MaxTableElements"/> per table).</summary>
    public static int MaxTablePositions(int headSize) => MaxTableElements / Math.Max(1, headSize / 2);

    /// <summary>Throws when the tables for <paramref name="maxPositions"/> positions cannot be built.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Too many positions for one table.</exception>
    public static void CheckTableSize(int headSize, int maxPositions)
    {
        var limit = MaxTablePositions(headSize);
        if (maxPositions <= 0 || maxPositions > limit)
            throw new ArgumentOutOfRangeException(nameof(maxPositions),
                $"max positions {maxPositions} is out of range: the rotary tables of head size {headSize} hold 1..{limit} positions; export with a smaller MaxPositions (--max-positions).");
    }

    /// <summary>
    /// Tables <c>cos[p, i] = cos(p * inv[i])</c> and <c>sin[p, i]</c>, shape [maxPositions, headSize/2] row-major,
    /// as ONNX <c>RotaryEmbedding</c> expects when it is given position ids.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The tables would exceed the largest .NET array (lower the positions).</exception>
    public static (float[] Cos, float[] Sin) Tables(int headSize, double theta, RopeScaling? scaling, int maxPositions)
    {
        CheckTableSize(headSize, maxPositions);
        var inv = Inverse(headSize, theta, scaling);
        int half = inv.Length;
        var cos = new float[(long)maxPositions * half];
        var sin = new float[cos.Length];
        for (int p = 0; p < maxPositions; p++)
            for (int i = 0; i < half; i++)
            {
                double angle = p * inv[i];
                cos[(long)p * half + i] = (float)Math.Cos(angle);
                sin[(long)p * half + i] = (float)Math.Sin(angle);
            }
        return (cos, sin);
    }
}
