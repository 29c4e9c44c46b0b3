namespace Rest.Onnx.Export;

/// <summary>Element type of weights and KV cache in the exported graph (logits are always float32).</summary>
public enum ExportDType
{
    /// <summary>float32 everywhere.</summary>
    Float32,
    /// <summary>float16 weights, activations and KV cache; logits cast to float32 (meant for CUDA).</summary>
    Float16,
}

/// <summary>Which graph flavour to write.</summary>
public enum GraphVariant
{
    /// <summary>ONNX opset 23 standard ops with the 4D additive float <c>attention_mask</c> (the Rest.Onnx runtime's graph).</summary>
    Opset23,
    /// <summary>The same decoder with a 2D int64 <c>attention_mask</c> [batch, past + seq] from which the graph builds the
    /// causal + padding mask itself, plus <c>genai_config.json</c>, for Microsoft.ML.OnnxRuntimeGenAI as a peer baseline.</summary>
    GenAI,
}

/// <summary>Exporter options. <c>default</c> is the portable choice: float32, opset 23, weights in <c>model.onnx.data</c>.</summary>
public readonly record struct ExportOptions
{
    /// <summary>Weight and KV cache element type.</summary>
    public ExportDType DType { get; init; }

    /// <summary>Graph flavour.</summary>
    public GraphVariant Variant { get; init; }

    /// <summary>Store weights inside <c>model.onnx</c> instead of <c>model.onnx.data</c> (only below 2 GB).</summary>
    public bool EmbedWeights { get; init; }

    /// <summary>Length of the rotary tables (positions the graph accepts); null means the config's <c>max_position_embeddings</c>.</summary>
    public int? MaxPositions { get; init; }

    /// <summary>Pad id for <c>genai_config.json</c>; null means the config's <c>pad_token_id</c>, else 0 (<c>&lt;unk&gt;</c> in
    /// SentencePiece Llama vocabularies, which byte-fallback encoding never emits).</summary>
    public int? PadTokenId { get; init; }
}
