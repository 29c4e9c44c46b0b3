namespace Rest.Onnx;

/// <summary>
/// Turns a draft source's raw evidence into odds the model actually honours, learned online. A node's
/// evidence is binned into a code (its raw share of its parent's continuations, how many continuations that
/// share is of, the matched suffix length, its depth; or, for unscored nodes, its depth alone): a share of 1
/// from one continuation is weaker evidence than from a thousand. Per code it counts how often a node was reached (its
/// parent accepted) and accepted, and estimates the odds as <c>(accepted + w·prior) / (reached + w)</c>, the
/// raw share being the prior. Every candidate the source offered is labelled, verified or not: once the
/// model's tokens are known, a node whose parent lies on the accepted path was accepted exactly when its
/// token is the model's next one. Thread-safe (counts are updated with interlocked adds); one instance per
/// model and source kind, shared by every generator of the model.
/// </summary>
internal sealed class AcceptanceCalibration
{
    private const int ShareBins = 10;
    private const int MatchBins = 4;
    private const int DepthBins = 3;
    private const int CountBins = 4;
    private const int ScoredCodes = ShareBins * MatchBins * DepthBins * CountBins;
    private const int UnscoredDepths = 16;
    private const int MergedCodes = ShareBins * (ShareBins + 1) * DepthBins;
    private const double PriorWeight = 2;
    private readonly long[] _reached = new long[Codes];
    private readonly long[] _accepted = new long[Codes];

    /// <summary>Number of evidence codes.</summary>
    public const int Codes = ScoredCodes + UnscoredDepths + MergedCodes;

    /// <summary>Creates an empty calibration (odds start at the raw shares).</summary>
    public AcceptanceCalibration() { }

    /// <summary>Nodes labelled so far (reached ones).</summary>
    public long Observations
    {
        get
        {
            long n = 0;
            for (var i = 0; i < Codes; i++) n += Volatile.Read(ref _reached[i]);
            return n;
        }
    }

    /// <summary>
    /// The evidence code of a scored node: its raw share, the number of continuations the share is of (its
    /// parent's count; 0 when unknown), the match length behind it and its depth.
    /// </summary>
    public static int Code(float share, int matchLength, int depth, long parentCount = 0)
    {
        var s = float.IsNaN(share) ? ShareBins / 2 : Math.Clamp((int)(share * ShareBins), 0, ShareBins - 1);
        var m = matchLength >= 8 ? 3 : matchLength >= 4 ? 2 : matchLength >= 3 ? 1 : 0;
        var d = depth >= 4 ? 2 : depth >= 2 ? 1 : 0;
        var c = parentCount >= 16 ? 3 : parentCount >= 4 ? 2 : parentCount >= 2 ? 1 : 0;
        return s + ShareBins * (m + MatchBins * (d + DepthBins * c));
    }

    /// <summary>The evidence code of an unscored node: its depth alone.</summary>
    public static int UnscoredCode(int depth) => ScoredCodes + Math.Clamp(depth, 1, UnscoredDepths) - 1;

    /// <summary>
    /// The evidence code of a node in a merge of several sources' trees: the best odds any source gave it, the second
    /// best (NaN when only one source offered it) and its depth. Whether two sources' agreement is independent
    /// evidence (the odds combine) or the same evidence seen twice (they do not) is learned per code, not assumed.
    /// </summary>
    public static int MergedCode(float best, float second, int depth)
    {
        static int Bin(float p) => Math.Clamp((int)(p * ShareBins), 0, ShareBins - 1);
        var b = float.IsNaN(best) ? ShareBins / 2 : Bin(best);
        var s = float.IsNaN(second) ? 0 : 1 + Bin(second);
        var d = depth >= 4 ? 2 : depth >= 2 ? 1 : 0;
        return ScoredCodes + UnscoredDepths + b + ShareBins * (s + (ShareBins + 1) * d);
    }

    /// <summary>The calibrated odds for <paramref name="code"/>, starting from <paramref name="prior"/> (NaN: one half).</summary>
    public float Estimate(int code, float prior)
    {
        var p = float.IsNaN(prior) ? 0.5 : Math.Clamp(prior, 0f, 1f);
        var reached = Volatile.Read(ref _reached[code]);
        var accepted = Volatile.Read(ref _accepted[code]);
        return (float)((accepted + PriorWeight * p) / (reached + PriorWeight));
    }

    /// <summary>Records one labelled node.</summary>
    public void Record(int code, bool accepted)
    {
        Interlocked.Increment(ref _reached[code]);
        if (accepted) Interlocked.Increment(ref _accepted[code]);
    }

    /// <summary>
    /// Replaces each node's raw share (as <see cref="Drafting.Ranking.DraftTrieBuilder"/> writes it, with its parent's
    /// continuation count in <see cref="DraftTree.Evidence"/>) by its calibrated odds and records its evidence code.
    /// <paramref name="matchLength"/> is the suffix length the tree was drafted from.
    /// </summary>
    public void Score(DraftTree tree, int matchLength)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var probabilities = tree.Probabilities;
        var depths = tree.Depths;
        var counts = tree.Evidence;
        for (var i = 0; i < tree.Count; i++)
        {
            var share = probabilities[i];
            var code = Code(share, matchLength, depths[i], Math.Max(0, counts[i]));
            tree.SetScore(i, Estimate(code, share), code);
        }
    }

    /// <summary>Scores the nodes that have no odds (NaN) by their depth alone; others are left as they are.</summary>
    public void ScoreUnscored(DraftTree tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var probabilities = tree.Probabilities;
        var depths = tree.Depths;
        for (var i = 0; i < tree.Count; i++)
        {
            if (!float.IsNaN(probabilities[i])) continue;
            var code = UnscoredCode(depths[i]);
            tree.SetScore(i, Estimate(code, float.NaN), code);
        }
    }

    /// <summary>
    /// Labels the nodes of <paramref name="tree"/> (as scored by this calibration) against the tokens the model
    /// produced after the root, <paramref name="modelTokens"/> (accepted drafts, then the model's own token): a
    /// node whose parent is on that path is reached, and accepted when its token is the model's at its depth.
    /// Nodes without an evidence code are skipped.
    /// </summary>
    public void Observe(DraftTree tree, ReadOnlySpan<int> modelTokens)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var count = tree.Count;
        if (count == 0 || modelTokens.IsEmpty) return;
        Span<bool> onPath = count <= 1024 ? stackalloc bool[count] : new bool[count];
        var tokens = tree.Tokens;
        var parents = tree.Parents;
        var depths = tree.Depths;
        var evidence = tree.Evidence;
        for (var i = 0; i < count; i++)
        {
            var parent = parents[i];
            var depth = depths[i];
            if ((parent >= 0 && !onPath[parent]) || depth > modelTokens.Length) continue;
            var accepted = tokens[i] == modelTokens[depth - 1];
            onPath[i] = accepted;
            if ((uint)evidence[i] < Codes) Record(evidence[i], accepted);
        }
    }
}
