namespace Rest.Onnx.Acceptance;

/// <summary>
/// Turns a logits row into the target distribution (temperature, then top-k, then top-p) as unnormalised
/// weights, and samples from weights. The baseline and speculative decoding use this same code, so
/// both sample from the same distribution. Scratch is allocated once per vocabulary.
/// </summary>
internal sealed class TokenSampler
{
    private readonly SamplingOptions _options;
    private readonly ulong[] _order; // (logit descending, id ascending) packed as sortable keys

    public TokenSampler(SamplingOptions options, int vocabularySize)
    {
        options.Validate();
        _options = options;
        var needsSort = options.TopK > 0 && options.TopK < vocabularySize || options.TopP < 1f;
        _order = needsSort ? new ulong[vocabularySize] : [];
    }

    /// <summary>Writes the target distribution's weights (zero outside top-k/top-p) and returns their sum.</summary>
    public double Weights(ReadOnlySpan<float> logits, Span<double> weights)
    {
        var inverseTemperature = 1.0 / _options.Temperature;
        var max = float.NegativeInfinity;
        foreach (var l in logits) if (l > max) max = l;

        if (_order.Length == 0)
        {
            var total = 0.0;
            for (var i = 0; i < logits.Length; i++)
            {
                var w = Math.Exp((logits[i] - max) * inverseTemperature);
                weights[i] = w;
                total += w;
            }
            return total;
        }

        // Order tokens by logit descending, ties by id: unique keys make the order fully determined.
        var order = _order.AsSpan(0, logits.Length);
        for (var i = 0; i < logits.Length; i++) order[i] = ((ulong)DescendingBits(logits[i]) << 32) | (uint)i;
        order.Sort();
        var keep = _options.TopK > 0 ? Math.Min(_options.TopK, logits.Length) : logits.Length;
        weights[..logits.Length].Clear();
        var sum = 0.0;
        for (var i = 0; i < keep; i++)
        {
            var w = Math.Exp((logits[(int)(uint)order[i]] - max) * inverseTemperature);
            weights[(int)(uint)order[i]] = w;
            sum += w;
        }
        if (_options.TopP < 1f)
        {
            // Smallest prefix whose mass reaches TopP; the rest of the top-k set is dropped.
            var threshold = _options.TopP * sum;
            var cumulative = 0.0;
            var cut = keep;
            for (var i = 0; i < keep; i++)
            {
                cumulative += weights[(int)(uint)order[i]];
                if (cumulative >= threshold)
                {
                    cut = i + 1;
                    break;
                }
            }
            for (var i = cut; i < keep; i++) weights[(int)(uint)order[i]] = 0;
            sum = cumulative >= threshold ? cumulative : sum;
        }
        return sum;
    }

    /// <summary>Draws an index with probability weight / <paramref name="total"/>.</summary>
    public static int Sample(ReadOnlySpan<double> weights, double total, Random random)
    {
        var u = random.NextDouble() * total;
        var cumulative = 0.0;
        var last = -1;
        for (var i = 0; i < weights.Length; i++)
        {
            var w = weights[i];
            if (w <= 0) continue;
            cumulative += w;
            last = i;
            if (u < cumulative) return i;
        }
        return last >= 0 ? last : throw new InvalidOperationException("No token has positive probability.");
    }

    // Maps a float to unsigned bits whose ascending order is the float's descending order.
    private static uint DescendingBits(float value)
    {
        var bits = (uint)BitConverter.SingleToInt32Bits(value);
        var ascending = (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
        return ~ascending;
    }
}
