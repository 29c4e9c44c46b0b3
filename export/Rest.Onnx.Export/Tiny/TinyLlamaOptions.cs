using Rest.Onnx.Export.Llama;
using Rest.Onnx.Export.Safetensors;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Export.Tiny;

/// <summary>Shape and seed of a random-weight Llama checkpoint. Start from <c>new TinyLlamaOptions()</c> and change fields with <c>with</c>.</summary>
public readonly record struct TinyLlamaOptions()
{
    /// <summary>Architecture written to config.json: <see cref="LlamaConfig.Llama"/>, <see cref="LlamaConfig.Mistral"/>
    /// or <see cref="LlamaConfig.Qwen2"/> (which adds q/k/v bias tensors).</summary>
    public string Architecture { get; init; } = LlamaConfig.Llama;
    /// <summary>Sliding attention window (Mistral, or Qwen2 with use_sliding_window on every layer); null = full attention.</summary>
    public int? SlidingWindow { get; init; }
    /// <summary>Decoder layers.</summary>
    public int Layers { get; init; } = 2;
    /// <summary>Hidden size.</summary>
    public int HiddenSize { get; init; } = 64;
    /// <summary>Query heads.</summary>
    public int Heads { get; init; } = 4;
    /// <summary>Key/value heads (fewer than <see cref="Heads"/> means grouped-query attention).</summary>
    public int KvHeads { get; init; } = 2;
    /// <summary>Head size; null means <see cref="HiddenSize"/> / <see cref="Heads"/>.</summary>
    public int? HeadSize { get; init; }
    /// <summary>MLP width.</summary>
    public int IntermediateSize { get; init; } = 128;
    /// <summary>Vocabulary size (must cover the tokenizer's ids if one is copied in).</summary>
    public int VocabSize { get; init; } = 256;
    /// <summary>Whether the lm head reuses the embedding matrix (no <c>lm_head.weight</c> is written).</summary>
    public bool TiedEmbeddings { get; init; }
    /// <summary>Seed: the same options write byte-identical files.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary><c>max_position_embeddings</c>.</summary>
    public int MaxPositions { get; init; } = 256;
    /// <summary><c>rope_theta</c>.</summary>
    public double RopeTheta { get; init; } = 10000;
    /// <summary><c>rope_scaling</c>, or null.</summary>
    public RopeScaling? RopeScaling { get; init; }
    /// <summary><c>rms_norm_eps</c>.</summary>
    public double RmsNormEps { get; init; } = 1e-5;
    /// <summary><c>bos_token_id</c>.</summary>
    public int BosTokenId { get; init; } = 1;
    /// <summary><c>eos_token_id</c>.</summary>
    public int EosTokenId { get; init; } = 2;
    /// <summary>A tokenizer file (e.g. tokenizer.model) copied into the folder under its own name, or null.</summary>
    public string? TokenizerPath { get; init; }
    /// <summary>Element type of the written weights.</summary>
    public SafetensorsDType DType { get; init; } = SafetensorsDType.F32;
}
