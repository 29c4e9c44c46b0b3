namespace Rest.Onnx.Acceptance;

/// <summary>Logits of the rows of one verification run: row 0 is the root, row i + 1 is draft node i.</summary>
internal interface ILogitsRows
{
    /// <summary>The logits of <paramref name="row"/>, valid until the next run.</summary>
    ReadOnlySpan<float> Row(int row);
}
