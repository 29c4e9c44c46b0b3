using System.Text.Json.Serialization;

namespace Rest.Onnx.Manifest;

/// <summary>Element type of an exported graph's weights and KV cache (logits are always float32).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ModelDType>))]
public enum ModelDType
{
    /// <summary>float32 everywhere.</summary>
    [JsonStringEnumMemberName("float32")]
    Float32,

    /// <summary>float16 weights, activations and KV cache; logits cast to float32 (meant for CUDA).</summary>
    [JsonStringEnumMemberName("float16")]
    Float16,

    /// <summary>4-bit block-quantized linear layers (<c>com.microsoft.MatMulNBits</c>, symmetric, float32 scales per block)
    /// including the lm head; embedding, norms, activations and KV cache float32 (meant for CPU).</summary>
    [JsonStringEnumMemberName("int4")]
    Int4,
}
