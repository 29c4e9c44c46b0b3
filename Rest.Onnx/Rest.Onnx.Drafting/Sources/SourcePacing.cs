using System.Diagnostics;

namespace Rest.Onnx.Drafting.Sources;

/// <summary>
/// Decides, per source of a <see cref="MergedDraftSource"/>, whether drafting from it pays for its own time: a source
/// whose nodes lengthen the model's path through the merged candidates by m tokens a step (the tokens that no other
/// source offered) is worth m x (seconds per token of the running generation); when that is below the seconds its
/// <see cref="IDraftSource.Draft"/> takes, the source pauses for 1, 2, 4, ... 16 steps and is probed again after each
/// pause (as the generator's own back-off does for drafting as a whole). So a hybrid whose datastore adds nothing to a
/// prompt-lookup match costs prompt lookup's time plus a probe now and then, not a datastore search every step.
/// Estimates are moving averages (1/8 weight to the newest sample); nothing is decided before
/// <see cref="Warmup"/> samples. Not thread-safe: one per merged source, that is one per generator.
/// </summary>
internal sealed class SourcePacing
{
    /// <summary>Samples of a source (and of the step period) before its pacing decides anything.</summary>
    public const int Warmup = 8;

    private const double Weight = 0.125;
    private const int MaxPause = 16;
    private readonly double[] _cost;     // seconds per Draft call
    private readonly double[] _gain;     // marginal path tokens per drafted step
    private readonly int[] _samples;
    private readonly int[] _skip;
    private readonly int[] _pause;
    private double _period = double.NaN; // seconds between consecutive steps
    private double _tokens = double.NaN; // tokens a step yields
    private int _periodSamples;
    private long _lastStep;

    /// <summary>Paces <paramref name="sources"/> sources.</summary>
    public SourcePacing(int sources)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sources, 1);
        _cost = new double[sources];
        _gain = new double[sources];
        _samples = new int[sources];
        _skip = new int[sources];
        _pause = new int[sources];
    }

    /// <summary>Seconds a step takes per token it yields (NaN before any sample).</summary>
    public double SecondsPerToken => _tokens > 0 ? _period / _tokens : double.NaN;

    /// <summary>
    /// Marks the end of a step (the merged source's <see cref="IDraftSource.Observe"/>, called every step whether it
    /// drafted or not) that yielded <paramref name="tokensYielded"/> tokens.
    /// </summary>
    public void StepEnded(long timestamp, int tokensYielded)
    {
        if (_lastStep != 0)
        {
            var seconds = (double)(timestamp - _lastStep) / Stopwatch.Frequency;
            // A gap far above the usual step (the generator idle between runs) says nothing about a step's cost.
            if (_periodSamples < Warmup || seconds < 8 * _period)
            {
                _period = Average(_period, seconds);
                _tokens = Average(_tokens, tokensYielded);
                _periodSamples++;
            }
        }
        _lastStep = timestamp;
    }

    /// <summary>Marginal path tokens per drafted step of <paramref name="source"/> (moving average).</summary>
    public double Gain(int source) => _gain[source];

    /// <summary>Seconds per Draft call of <paramref name="source"/> (moving average).</summary>
    public double Cost(int source) => _cost[source];

    /// <summary>Whether source <paramref name="source"/> drafts this step (false while it pauses).</summary>
    public bool ShouldDraft(int source)
    {
        if (_skip[source] == 0) return true;
        _skip[source]--;
        return false;
    }

    /// <summary>Records how long source <paramref name="source"/>'s Draft took.</summary>
    public void RecordCost(int source, long ticks) => _cost[source] = Average(_cost[source], (double)ticks / Stopwatch.Frequency, _samples[source]);

    /// <summary>
    /// Records a drafted step's outcome: per source that drafted, how many more tokens of the model's path the merged
    /// candidates held with it than without it; then pauses the sources that did not pay.
    /// </summary>
    public void Observe(ReadOnlySpan<int> marginal, ReadOnlySpan<bool> drafted)
    {
        var secondsPerToken = SecondsPerToken;
        for (var s = 0; s < drafted.Length; s++)
        {
            if (!drafted[s]) continue;
            _gain[s] = Average(_gain[s], marginal[s], _samples[s]);
            _samples[s]++;
            if (_samples[s] < Warmup || _periodSamples < Warmup || double.IsNaN(secondsPerToken)) continue;
            if (_gain[s] * secondsPerToken < _cost[s])
            {
                _pause[s] = Math.Min(MaxPause, Math.Max(1, _pause[s] * 2));
                _skip[s] = _pause[s];
            }
            else
            {
                _pause[s] = 0;
            }
        }
    }

    private static double Average(double current, double sample, int samples = int.MaxValue)
        => double.IsNaN(current) || samples == 0 ? sample : current + Weight * (sample - current);
}
