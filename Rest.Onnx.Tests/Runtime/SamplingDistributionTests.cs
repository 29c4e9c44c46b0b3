using Microsoft.ML.OnnxRuntime;
using Rest.Onnx.Acceptance;

namespace Rest.Onnx.Tests.Runtime;

/// <summary>
/// With sampling, speculative decoding must follow the model's own distribution. For a tiny model and a
/// fixed prompt, the exact joint distribution of the first two tokens (top-k 6, temperature 0.8) is
/// computed from scratch; runs with drafts (most of them accepted) and without must both fit it
/// (Pearson chi-square, false-alarm rate 1e-3 per test, fixed seeds so the outcome is deterministic).
/// </summary>
public class SamplingDistributionTests
{
    private const int Runs = 2500;
    private static readonly int[] Prompt = [1, 33, 250, 17, 400, 9];
    private static readonly SamplingOptions Sampling = new() { TopK = 6, Temperature = 0.8f };
    private RestModel _model = null!;
    private Generator _generator = null!;
    private Dictionary<(int, int), double> _exact = null!;
    private int[] _likelyFirst = null!;
    private Dictionary<int, int[]> _likelySecond = null!;

    [OneTimeSetUp]
    public void Open()
    {
        var folder = TinyModels.Folder(TinyModels.Default);
        _model = RestModel.Load(folder, new ModelOptions { MaxSequenceLength = 64, IntraOpThreads = 1 });
        _generator = _model.CreateGenerator();

        var config = _model.Manifest;
        using var session = new InferenceSession(Path.Combine(folder, config.ModelFile));
        var sampler = new TokenSampler(Sampling, config.VocabSize);
        var first = Distribution(sampler, NaiveDecoder.LastLogits(session, config, Prompt));
        _exact = [];
        _likelySecond = [];
        foreach (var (t1, p1) in first)
        {
            var second = Distribution(sampler, NaiveDecoder.LastLogits(session, config, [.. Prompt, t1]));
            foreach (var (t2, p2) in second) _exact[(t1, t2)] = p1 * p2;
            _likelySecond[t1] = [.. second.OrderByDescending(kv => kv.Value).Take(2).Select(kv => kv.Key)];
        }
        _likelyFirst = [.. first.OrderByDescending(kv => kv.Value).Take(3).Select(kv => kv.Key)];
    }

    [OneTimeTearDown]
    public void Close()
    {
        _generator.Dispose();
        _model.Dispose();
    }

    [Test]
    public void BaselineSamplingFitsTheExactDistribution() => AssertFits(draft: false);

    [Test]
    public void SpeculativeSamplingFitsTheExactDistribution() => AssertFits(draft: true);

    // The automatic budget verifies a subset of the tree that changes as its odds and costs are learned.
    [Test]
    public void SpeculativeSamplingWithAutoBudgetFitsTheExactDistribution() => AssertFits(draft: true, auto: true);

    private void AssertFits(bool draft, bool auto = false)
    {
        var source = new LikelyTokensDraftSource(Prompt.Length, _likelyFirst, _likelySecond);
        var counts = new Dictionary<(int, int), long>();
        long acceptedDrafts = 0;
        for (var run = 0; run < Runs; run++)
        {
            var options = new GenerationOptions
            {
                MaxNewTokens = 2, StopTokenIds = [], Decoding = DecodingStrategy.Sampling,
                Sampling = Sampling with { Seed = 1000 + run }, Drafting = draft ? DraftingStrategy.Custom(source) : DraftingStrategy.None,
                Draft = new() { Budget = auto ? DraftOptions.AutoBudget : 64 },
            };
            var result = _generator.Generate(Prompt, options);
            var key = (result.Tokens[0], result.Tokens[1]);
            counts[key] = counts.GetValueOrDefault(key) + 1;
            acceptedDrafts += result.Statistics.AcceptedLengthHistogram.Select((n, i) => n * Math.Max(i - 1, 0)).Sum();
        }
        if (draft && !auto) Assert.That(acceptedDrafts, Is.GreaterThan(Runs / 2), "drafts were accepted often");
        if (auto) TestContext.Out.WriteLine($"auto budget: {acceptedDrafts} drafts accepted in {Runs} runs");

        var keys = _exact.Keys.ToList();
        Assert.That(counts.Keys.Except(keys), Is.Empty, "no token pair outside the top-k support");
        var (statistic, df) = ChiSquare.Test([.. keys.Select(k => counts.GetValueOrDefault(k))], [.. keys.Select(k => _exact[k])], Runs);
        Assert.That(statistic, Is.LessThan(ChiSquare.Critical001(df)), $"chi-square {statistic:F1} with {df} degrees of freedom");
    }

    private static Dictionary<int, double> Distribution(TokenSampler sampler, float[] logits)
    {
        var weights = new double[logits.Length];
        var total = sampler.Weights(logits, weights);
        var result = new Dictionary<int, double>();
        for (var i = 0; i < weights.Length; i++) if (weights[i] > 0) result[i] = weights[i] / total;
        return result;
    }

    /// <summary>Drafts the three likeliest first tokens, each with its two likeliest successors.</summary>
    private sealed class LikelyTokensDraftSource(int promptLength, int[] first, Dictionary<int, int[]> second) : IDraftSource
    {
        public void Draft(ReadOnlySpan<int> context, DraftTree destination)
        {
            destination.Clear();
            if (context.Length != promptLength) return;
            foreach (var t1 in first)
            {
                var node = destination.Add(t1, -1);
                foreach (var t2 in second[t1]) destination.Add(t2, node);
            }
        }
    }
}
