using Rest.Onnx.Manifest;

namespace Rest.Onnx.Export;

/// <summary>Exporter options. <c>default</c> is the portable choice: float32, opset 23, weights in <c>model.onnx.data</c>.</summary>
public readonly record struct ExportOptions
{
    /// <summary>Weight and KV cache element type.</summary>
    public ModelDType DType { get; init; }

    /// <summary>Graph flavour.</summary>
    public GraphVariant Variant { get; init; }

    /// <summary>Store weights inside <c>model.onnx</c> instead of <c>model.onnx.data</c> (only below 2 GB).</summary>
    public bool EmbedWeights { get; init; }

    /// <summary>Length of the rotary tables (positions the graph accepts); null means the config's <c>max_position_embeddings</c>.</summary>
    public int? MaxPositions { get; init; }

    /// <summary>Block size of int4 weights when <see cref="DType"/> is <see cref="ModelDType.Int4"/>.</summary>
    public const int DefaultInt4BlockSize = 32;

    /// <summary>Values per int4 block sharing one scale (a power of two, at least 16); null = <see cref="DefaultInt4BlockSize"/>.</summary>
    public int? Int4BlockSize { get; init; }

    /// <summary>MatMulNBits <c>accuracy_level</c> for int4: 0 = ONNX Runtime's default (float compute), 4 = int8 activations
    /// (fastest on CPUs with integer dot products, slightly less exact). Default 0.</summary>
    public int Int4AccuracyLevel { get; init; }

    /// <summary>Pad id recorded in <c>rest-model.json</c> and <c>genai_config.json</c>, checked against the vocabulary; null means the config's <c>pad_token_id</c>, else 0 (<c>&lt;unk&gt;</c> in
    /// SentencePiece Llama vocabularies, which byte-fallback encoding never emits).</summary>
    public int? PadTokenId { get; init; }
}
