namespace Rest.Onnx.Drafting.Sources;

/// <summary>The baseline: never drafts, so every step verifies just the root and yields one token.</summary>
internal sealed class NoDraftSource : IDraftSource
{
    /// <summary>The shared instance (stateless).</summary>
    public static readonly NoDraftSource Instance = new();

    /// <inheritdoc/>
    public void Draft(ReadOnlySpan<int> context, DraftTree destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        destination.Clear();
    }
}
