using System.Text.Json.Serialization;

namespace Rest.Onnx.Manifest;

/// <summary>Which graph flavour an export holds.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<GraphVariant>))]
public enum GraphVariant
{
    /// <summary>ONNX opset 23 standard ops with the 4D additive float <c>attention_mask</c> (the Rest.Onnx runtime's graph).</summary>
    [JsonStringEnumMemberName("opset23")]
    Opset23,

    /// <summary>The same decoder with a 2D int64 <c>attention_mask</c> [batch, past + seq] from which the graph builds the
    /// causal + padding mask itself, plus <c>genai_config.json</c>, for Microsoft.ML.OnnxRuntimeGenAI as a peer baseline.</summary>
    [JsonStringEnumMemberName("genai")]
    GenAI,

    /// <summary>The Rest.Onnx runtime's graph with <c>com.microsoft.GroupQueryAttention</c> in place of <c>Attention</c>: the same
    /// inputs (the 4D additive mask becomes GQA's <c>attention_bias</c>), but one KV buffer per layer and kind, shared by past
    /// and present and sized for the generator's maximum length, so a step writes only its own rows (ONNX Runtime contrib op).</summary>
    [JsonStringEnumMemberName("gqa")]
    Gqa,

    /// <summary>The GenAI variant's interface (2D int64 <c>attention_mask</c>, <c>genai_config.json</c>) over GroupQueryAttention:
    /// seqlens_k and total_sequence_length come from the 2D mask, causality from the op itself, and genai_config.json sets
    /// <c>past_present_share_buffer</c>, so onnxruntime-genai runs it the way its own model builder's graphs run.</summary>
    [JsonStringEnumMemberName("genai-gqa")]
    GenAIGqa,
}
