namespace Rest.Onnx.Export.Llama;

/// <summary>Hugging Face tensor names of a LlamaForCausalLM checkpoint, shared by Mistral and Qwen2 (weights are [out, in]).</summary>
internal static class LlamaTensorNames
{
    /// <summary>[vocab, hidden].</summary>
    public const string Embedding = "model.embed_tokens.weight";
    /// <summary>[hidden].</summary>
    public const string FinalNorm = "model.norm.weight";
    /// <summary>[vocab, hidden]; absent when embeddings are tied.</summary>
    public const string LmHead = "lm_head.weight";

    /// <summary>[hidden].</summary>
    public static string InputNorm(int layer) => $"model.layers.{layer}.input_layernorm.weight";
    /// <summary>[heads * headSize, hidden].</summary>
    public static string QProj(int layer) => $"model.layers.{layer}.self_attn.q_proj.weight";
    /// <summary>[kvHeads * headSize, hidden].</summary>
    public static string KProj(int layer) => $"model.layers.{layer}.self_attn.k_proj.weight";
    /// <summary>[kvHeads * headSize, hidden].</summary>
    public static string VProj(int layer) => $"model.layers.{layer}.self_attn.v_proj.weight";
    /// <summary>[heads * headSize] (Qwen2 only).</summary>
    public static string QBias(int layer) => $"model.layers.{layer}.self_attn.q_proj.bias";
    /// <summary>[kvHeads * headSize] (Qwen2 only).</summary>
    public static string KBias(int layer) => $"model.layers.{layer}.self_attn.k_proj.bias";
    /// <summary>[kvHeads * headSize] (Qwen2 only).</summary>
    public static string VBias(int layer) => $"model.layers.{layer}.self_attn.v_proj.bias";
    /// <summary>[hidden, heads * headSize].</summary>
    public static string OProj(int layer) => $"model.layers.{layer}.self_attn.o_proj.weight";
    /// <summary>[hidden].</summary>
    public static string PostAttentionNorm(int layer) => $"model.layers.{layer}.post_attention_layernorm.weight";
    /// <summary>[intermediate, hidden].</summary>
    public static string GateProj(int layer) => $"model.layers.{layer}.mlp.gate_proj.weight";
    /// <summary>[intermediate, hidden].</summary>
    public static string UpProj(int layer) => $"model.layers.{layer}.mlp.up_proj.weight";
    /// <summary>[hidden, intermediate].</summary>
    public static string DownProj(int layer) => $"model.layers.{layer}.mlp.down_proj.weight";
}
