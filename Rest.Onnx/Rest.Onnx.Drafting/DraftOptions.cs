namespace Rest.Onnx;

/// <summary>Parameters of one draft step. Immutable; configure with <c>with</c> expressions on <see cref="Default"/>.</summary>
public sealed record DraftOptions
{
    /// <summary>
    /// The reference's search defaults (suffixes 16..2, k = 5000, continuations of 10, sampled) with the
    /// automatic budget: up to 64 candidate nodes, of which each step verifies the subset that pays.
    /// </summary>
    public static DraftOptions Default { get; } = new();

    /// <summary>
    /// The <see cref="Budget"/> that lets each step choose its own tree: sources offer up to
    /// <see cref="MaxCandidates"/> scored nodes, and the runtime verifies the ancestor-closed subset (possibly
    /// empty) with the most expected tokens per unit of measured step time.
    /// </summary>
    public const int AutoBudget = -1;

    /// <summary>Longest context suffix tried first.</summary>
    public int MaxSuffixLength { get; init; } = 16;

    /// <summary>Shortest context suffix tried; no match at this length means no draft.</summary>
    public int MinSuffixLength { get; init; } = 2;

    /// <summary>Occurrences read in <see cref="DraftMode.Sampled"/> mode (k).</summary>
    public int MaxOccurrences { get; init; } = 5000;

    /// <summary>Tokens read after each occurrence (the deepest tree level).</summary>
    public int ContinuationLength { get; init; } = 10;

    /// <summary>
    /// Most nodes in the draft tree (further limited by the destination's capacity), or <see cref="AutoBudget"/>
    /// (the default): chosen per step from the measured cost of rows and the drafts' odds.
    /// </summary>
    public int Budget { get; init; } = AutoBudget;

    /// <summary>Most candidate nodes a source offers under <see cref="AutoBudget"/> (the reference's 64).</summary>
    public int MaxCandidates { get; init; } = 64;

    /// <summary>Whether <see cref="Budget"/> is <see cref="AutoBudget"/>.</summary>
    public bool IsAutoBudget => Budget == AutoBudget;

    /// <summary>Most nodes a source writes: <see cref="Budget"/>, or <see cref="MaxCandidates"/> under <see cref="AutoBudget"/>.</summary>
    public int CandidateBudget => IsAutoBudget ? MaxCandidates : Budget;

    /// <summary>How counts are gathered.</summary>
    public DraftMode Mode { get; init; } = DraftMode.Sampled;

    /// <summary>
    /// Smallest share of the match's continuations a node must appear in to be drafted; 0 (the reference)
    /// fills the budget. A node's share estimates the chance that the model accepts it, so where every
    /// verified row costs (a CPU), dropping nodes below the row's relative cost keeps only drafts that pay.
    /// </summary>
    public double MinShare { get; init; }

    /// <summary>The count a node needs out of <paramref name="total"/> continuations for a share of at least <paramref name="minShare"/> (at least 1).</summary>
    public static long MinCount(double minShare, long total) => Math.Max(1, (long)Math.Ceiling(minShare * total));

    /// <summary>Checks the values, naming the first bad one.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        // Messages name the option and its value in the caller's terms (tools map them to their own flags).
        if (MinSuffixLength < 1) throw new ArgumentOutOfRangeException(nameof(MinSuffixLength), $"MinSuffixLength ({MinSuffixLength}) must be at least 1.");
        if (MaxSuffixLength < MinSuffixLength) throw new ArgumentOutOfRangeException(nameof(MaxSuffixLength), $"MinSuffixLength ({MinSuffixLength}) must not exceed MaxSuffixLength ({MaxSuffixLength}).");
        if (MaxOccurrences < 1) throw new ArgumentOutOfRangeException(nameof(MaxOccurrences), $"MaxOccurrences ({MaxOccurrences}) must be at least 1.");
        if (ContinuationLength < 1) throw new ArgumentOutOfRangeException(nameof(ContinuationLength), $"ContinuationLength ({ContinuationLength}) must be at least 1.");
        if (Budget < 0 && Budget != AutoBudget) throw new ArgumentOutOfRangeException(nameof(Budget), $"Budget ({Budget}) must not be negative (AutoBudget, -1, chooses per step).");
        if (MaxCandidates < 0) throw new ArgumentOutOfRangeException(nameof(MaxCandidates), $"MaxCandidates ({MaxCandidates}) must not be negative.");
        if (!(MinShare >= 0 && MinShare <= 1)) throw new ArgumentOutOfRangeException(nameof(MinShare), $"MinShare ({MinShare}) must be in [0, 1].");
        if (!Enum.IsDefined(Mode)) throw new ArgumentOutOfRangeException(nameof(Mode), $"Mode ({Mode}) is not a known draft mode.");
    }
}
