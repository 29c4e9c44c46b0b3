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
}
