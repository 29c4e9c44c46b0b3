namespace Rest.Onnx.Manifest;

/// <summary>Input names of the graph; <c>{0}</c> in the cache names is the layer index.</summary>
public sealed record ModelInputNames
{
    /// <summary>int64 [batch, seq].</summary>
    public string InputIds { get; init; } = "input_ids";

    /// <summary>int64 [batch, seq].</summary>
    public string PositionIds { get; init; } = "position_ids";

    /// <summary>float32 [batch, 1, seq, past + seq] additive (opset23), or int64 [batch, past + seq] (genai).</summary>
    public string AttentionMask { get; init; } = "attention_mask";

    /// <summary>Past key name pattern.</summary>
    public string PastKey { get; init; } = "past_key_values.{0}.key";

    /// <summary>Past value name pattern.</summary>
    public string PastValue { get; init; } = "past_key_values.{0}.value";
}
