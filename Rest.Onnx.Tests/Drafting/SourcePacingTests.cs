using System.Diagnostics;
using Rest.Onnx.Drafting.Sources;
using Rest.Onnx.Tests.Datastore;

namespace Rest.Onnx.Tests.Drafting;

/// <summary><see cref="SourcePacing"/>: a merged source's part that does not pay for its drafting time pauses.</summary>
public class SourcePacingTests
{
    private static readonly long Millisecond = Stopwatch.Frequency / 1000;

    /// <summary>Steps of 10 ms yielding 2 tokens (5 ms a token); source 0 lengthens the path by 1 token and costs 0.1 ms,
    /// source 1 adds nothing and costs 1 ms.</summary>
    private static List<bool[]> Run(SourcePacing pacing, int steps, int[] marginal, long[] costTicks)
    {
        var drafted = new List<bool[]>();
        long now = 1;
        for (var step = 0; step < steps; step++)
        {
            var draws = new bool[marginal.Length];
            for (var s = 0; s < marginal.Length; s++)
            {
                draws[s] = pacing.ShouldDraft(s);
                if (draws[s]) pacing.RecordCost(s, costTicks[s]);
            }
            now += 10 * Millisecond;
            pacing.StepEnded(now, 2);
            pacing.Observe(marginal, draws);
            drafted.Add(draws);
        }
        return drafted;
    }

    [Test]
    public void A_source_that_adds_nothing_pauses_for_doubling_stretches_and_one_that_pays_keeps_drafting()
    {
        var pacing = new SourcePacing(2);
        var drafted = Run(pacing, 200, [1, 0], [Millisecond / 10, Millisecond]);
        Assert.That(drafted.All(d => d[0]), "the paying source drafts every step");
        Assert.That(pacing.SecondsPerToken, Is.EqualTo(0.005).Within(1e-9));
        // Source 1 drafts through the warm-up, then is probed after pauses of 1, 2, 4, 8, 16, 16, ... steps.
        var probes = drafted.Select((d, i) => (d[1], i)).Where(x => x.Item1).Select(x => x.i).ToList();
        Assert.That(probes.Take(SourcePacing.Warmup), Is.EqualTo(Enumerable.Range(0, SourcePacing.Warmup)));
        var gaps = probes.Zip(probes.Skip(1), (a, b) => b - a - 1).Skip(SourcePacing.Warmup).ToList();
        Assert.That(gaps.Take(6), Is.EqualTo(new[] { 1, 2, 4, 8, 16, 16 }));
        Assert.That(drafted.Count(d => d[1]), Is.LessThan(30), "about one step in 17 once paused");
    }

    [Test]
    public void A_source_whose_tokens_are_worth_its_time_is_never_paused_even_when_slow()
    {
        // 0.4 tokens a step at 5 ms a token are worth 2 ms; the source costs 1.5 ms.
        var paying = new SourcePacing(1);
        var marginal = new int[1];
        long now = 1;
        for (var step = 0; step < 100; step++)
        {
            Assert.That(paying.ShouldDraft(0), $"step {step}");
            paying.RecordCost(0, 3 * Millisecond / 2);
            marginal[0] = step % 5 < 2 ? 1 : 0;
            now += 10 * Millisecond;
            paying.StepEnded(now, 2);
            paying.Observe(marginal, [true]);
        }
    }

    [Test]
    public void The_merge_credits_a_source_with_the_path_tokens_only_it_offered()
    {
        // A: 10 -> 11 -> 12 ; B: 10, 20. The model goes 10, 11, then its own 99: 10 is offered by both, 11 by A alone.
        var a = new FixedTree((10, -1), (11, 0), (12, 1));
        var b = new FixedTree((10, -1), (20, -1));
        var merged = new MergedDraftSource(16, new AcceptanceCalibration(), pace: true, a, b);
        var tree = new DraftTree(16);
        merged.Draft([1], tree);
        Assert.That(NaiveDrafter.Paths(tree), Does.Contain("10,11,12"));
        merged.Observe([10, 11, 99]);
        Assert.That(merged.Pacing!.Gain(0), Is.EqualTo(1));
        Assert.That(merged.Pacing.Gain(1), Is.EqualTo(0));
        Assert.That(merged.Pacing.Cost(0), Is.GreaterThan(0), "each Draft call is timed");
    }

    private sealed class FixedTree(params (int Token, int Parent)[] nodes) : IDraftSource
    {
        public void Draft(ReadOnlySpan<int> context, DraftTree destination)
        {
            destination.Clear();
            foreach (var (token, parent) in nodes) destination.Add(token, parent, 0.5f);
        }
    }
}
