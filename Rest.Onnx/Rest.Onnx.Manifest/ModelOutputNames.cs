namespace Rest.Onnx.Manifest;

/// <summary>Output names of the graph; <c>{0}</c> in the cache names is the layer index.</summary>
public sealed record ModelOutputNames
{
    /// <summary>float32 [batch, seq, vocab].</summary>
    public string Logits { get; init; } = "logits";

    /// <summary>Present key name pattern.</summary>
    public string PresentKey { get; init; } = "present.{0}.key";

    /// <summary>Present value name pattern.</summary>
    public string PresentValue { get; init; } = "present.{0}.value";
}
