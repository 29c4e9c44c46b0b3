namespace Rest.Onnx.Bench.Datastore;

/// <summary>
/// Synthetic token text for datastore benchmarks: a Markov chain over a 32,000-token vocabulary. Each token
/// has 8 fixed successors picked with Zipf(1) weights; with probability 0.2 the next token is instead drawn
/// from a Zipf(1.1) distribution over the whole vocabulary. Documents of 500..4,000 tokens end with the
/// separator. This has the repeats and skew of real code/chat text that matter to suffix sorting and to
/// match lengths, with fixed seeds.
/// </summary>
public static class SyntheticTokens
{
    /// <summary>Vocabulary size (Llama 2's).</summary>
    public const int Vocabulary = 32000;

    /// <summary>Document separator id (Llama 2's EOS).</summary>
    public const int Separator = 2;

    private const int Successors = 8;

    /// <summary>A stream of <paramref name="count"/> tokens; the same seed gives the same chain, other stream seeds other text from it.</summary>
    public static int[] Generate(int count, int streamSeed, int chainSeed = 12345)
    {
        var chain = new Random(chainSeed);
        var global = ZipfCdf(Vocabulary, 1.1);
        var successors = new int[Vocabulary * Successors];
        for (var i = 0; i < successors.Length; i++) successors[i] = Sample(global, chain.NextDouble());
        var local = ZipfCdf(Successors, 1.0);

        var rng = new Random(streamSeed);
        var tokens = new int[count];
        var previous = Sample(global, rng.NextDouble());
        var untilSeparator = rng.Next(500, 4000);
        for (var i = 0; i < count; i++)
        {
            int next;
            if (--untilSeparator == 0)
            {
                next = Separator;
                untilSeparator = rng.Next(500, 4000);
            }
            else if (rng.NextDouble() < 0.2 || previous == Separator)
            {
                next = Sample(global, rng.NextDouble());
            }
            else
            {
                next = successors[previous * Successors + Sample(local, rng.NextDouble())];
            }
            if (next == Separator && untilSeparator > 0) next = 3;
            tokens[i] = next;
            previous = next;
        }
        return tokens;
    }

    /// <summary>Splits a stream at separators into documents (the separators themselves are dropped).</summary>
    public static IEnumerable<ArraySegment<int>> Documents(int[] tokens)
    {
        var start = 0;
        for (var i = 0; i <= tokens.Length; i++)
        {
            if (i < tokens.Length && tokens[i] != Separator) continue;
            if (i > start) yield return new ArraySegment<int>(tokens, start, i - start);
            start = i + 1;
        }
    }

    private static double[] ZipfCdf(int n, double exponent)
    {
        var cdf = new double[n];
        double sum = 0;
        for (var i = 0; i < n; i++) cdf[i] = sum += 1.0 / Math.Pow(i + 1, exponent);
        for (var i = 0; i < n; i++) cdf[i] /= sum;
        return cdf;
    }

    private static int Sample(double[] cdf, double u)
    {
        var i = Array.BinarySearch(cdf, u);
        return Math.Min(i < 0 ? ~i : i, cdf.Length - 1);
    }
}
