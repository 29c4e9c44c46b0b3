using System.Diagnostics;

namespace Rest.Onnx;

/// <summary>
/// Counts and timings of one run. Updated as the run proceeds (a streaming consumer sees it grow) and
/// final once the run ends. Times are wall-clock; <see cref="ModelTime"/> is the forward passes of the
/// decoding steps, <see cref="PrefillTime"/> the prompt's.
/// </summary>
public sealed class GenerationStatistics
{
    private readonly long[] _histogram;
    private readonly long[] _rows;

    internal GenerationStatistics(int maxTokensPerStep)
    {
        _histogram = new long[maxTokensPerStep + 1];
        _rows = new long[maxTokensPerStep + 1];
    }

    /// <summary>Prompt tokens.</summary>
    public int PromptTokens { get; internal set; }

    /// <summary>Prompt tokens whose KV cache was kept from the previous run (<see cref="GenerationOptions.ReuseCachedPrefix"/>), so not prefilled again; included in <see cref="PromptTokens"/>.</summary>
    public int ReusedPromptTokens { get; internal set; }

    /// <summary>Tokens returned to the caller.</summary>
    public int TokensGenerated { get; internal set; }

    /// <summary>Verification steps (model runs after the prompt); the baseline has one per token.</summary>
    public int VerificationSteps { get; internal set; }

    /// <summary>Draft nodes verified in total (the baseline verifies none).</summary>
    public long DraftTokensVerified { get; internal set; }

    /// <summary>
    /// Index n counts the steps that yielded n tokens (accepted drafts plus the model's own token), so
    /// index 1 holds the steps whose drafts were all rejected.
    /// </summary>
    public IReadOnlyList<long> AcceptedLengthHistogram => _histogram;

    /// <summary>Index r counts the steps that verified r rows (the root plus r - 1 draft nodes); the baseline's are all at 1.</summary>
    public IReadOnlyList<long> VerifiedRowsHistogram => _rows;

    /// <summary>Mean tokens per step including the model's own token: 1 for the baseline, above 1 when drafts are accepted.</summary>
    public double MeanAcceptedTokensPerStep
    {
        get
        {
            long steps = 0, tokens = 0;
            for (var n = 0; n < _histogram.Length; n++)
            {
                steps += _histogram[n];
                tokens += n * _histogram[n];
            }
            return steps == 0 ? 0 : (double)tokens / steps;
        }
    }

    /// <summary>Tokens generated per second of decoding (prefill excluded).</summary>
    public double TokensPerSecond => DecodeTime.TotalSeconds > 0 ? TokensGenerated / DecodeTime.TotalSeconds : 0;

    /// <summary>Time spent on the prompt.</summary>
    public TimeSpan PrefillTime => Stopwatch.GetElapsedTime(0, PrefillTicks);

    /// <summary>Time from the end of prefill to the end of the run.</summary>
    public TimeSpan DecodeTime => Stopwatch.GetElapsedTime(0, DecodeTicks);

    /// <summary>Time spent building draft trees.</summary>
    public TimeSpan DraftingTime => Stopwatch.GetElapsedTime(0, DraftingTicks);

    /// <summary>Time spent filling the step's inputs and in the model's forward passes.</summary>
    public TimeSpan ModelTime => Stopwatch.GetElapsedTime(0, ModelTicks);

    /// <summary>Time spent deciding acceptance (argmax / sampling over logits rows).</summary>
    public TimeSpan AcceptanceTime => Stopwatch.GetElapsedTime(0, AcceptanceTicks);

    /// <summary>Time spent keeping the accepted KV entries (cache compaction).</summary>
    public TimeSpan CacheUpdateTime => Stopwatch.GetElapsedTime(0, CacheTicks);

    /// <summary>Time spent after keeping the KV entries: stop tokens and strings, text decoding, statistics.</summary>
    public TimeSpan BookkeepingTime => Stopwatch.GetElapsedTime(0, BookkeepingTicks);

    /// <summary>Time of the step-cost model's one-time calibration sweep, when this run paid it (see <see cref="StepCostModel"/>).</summary>
    public TimeSpan CalibrationTime => Stopwatch.GetElapsedTime(0, CalibrationTicks);

    internal long BookkeepingTicks { get; set; }

    internal long CalibrationTicks { get; set; }

    internal long PrefillTicks { get; set; }

    internal long DecodeTicks { get; set; }

    internal long DraftingTicks { get; set; }

    internal long ModelTicks { get; set; }

    internal long AcceptanceTicks { get; set; }

    internal long CacheTicks { get; set; }

    internal void RecordStep(int tokensYielded, int draftNodes)
    {
        VerificationSteps++;
        DraftTokensVerified += draftNodes;
        _histogram[Math.Min(tokensYielded, _histogram.Length - 1)]++;
        _rows[Math.Min(draftNodes + 1, _rows.Length - 1)]++;
    }

    /// <inheritdoc/>
    public override string ToString()
        => $"{TokensGenerated} tokens in {VerificationSteps} steps ({MeanAcceptedTokensPerStep:F2} tokens/step), {TokensPerSecond:F1} tokens/s; " +
           $"prefill {PrefillTime.TotalMilliseconds:F1} ms, drafting {DraftingTime.TotalMilliseconds:F1} ms, model {ModelTime.TotalMilliseconds:F1} ms, " +
           $"acceptance {AcceptanceTime.TotalMilliseconds:F1} ms, cache {CacheUpdateTime.TotalMilliseconds:F1} ms, " +
           $"bookkeeping {BookkeepingTime.TotalMilliseconds:F1} ms";
}
