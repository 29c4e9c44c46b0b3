namespace Rest.Onnx;

/// <summary>
/// Proposes draft tokens for one decoding step. Implementations keep their scratch buffers and must
/// not allocate per call. A source is used by one generator at a time.
/// </summary>
public interface IDraftSource
{
    /// <summary>
    /// Fills <paramref name="destination"/> (cleared first, up to its capacity) with a draft tree continuing
    /// <paramref name="context"/>: every token so far, whose last token is the tree's implicit root.
    /// An empty tree means "no draft": the step then decodes one token, like the baseline.
    /// </summary>
    void Draft(ReadOnlySpan<int> context, DraftTree destination);

    /// <summary>
    /// Tells the source what the model produced after the last drafted tree's root: the accepted drafts, then
    /// the model's own token. Scored sources calibrate their odds with it (see <see cref="AcceptanceCalibration"/>);
    /// the default ignores it. Called at most once per <see cref="Draft"/>, before the next one.
    /// </summary>
    void Observe(ReadOnlySpan<int> modelTokens) { }
}
