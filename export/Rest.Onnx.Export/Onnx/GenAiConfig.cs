using System.Text.Json;
using System.Text.Json.Nodes;
using Rest.Onnx.Export.Llama;

namespace Rest.Onnx.Export.Onnx;

/// <summary>
/// Writes <c>genai_config.json</c> for Microsoft.ML.OnnxRuntimeGenAI (model type "llama", "mistral" or "qwen2", all
/// GenAI decoder-only LLM types; greedy search defaults). A sliding window is applied by the graph's own mask subgraph
/// over the full cache, so the config gets no GenAI <c>sliding_window</c> section (that one trims GenAI's KV cache
/// and input chunks for static-shape graphs, which this graph is not).
/// </summary>
internal static class GenAiConfig
{
    public const string FileName = "genai_config.json";

    public static void Write(string path, LlamaConfig c, int contextLength, int padTokenId, string modelFile, bool sharedBuffer = false)
    {
        JsonNode Eos() => c.EosTokenIds.Count == 1 ? JsonValue.Create(c.EosTokenIds[0])
            : new JsonArray(c.EosTokenIds.Select(e => (JsonNode)JsonValue.Create(e)).ToArray());
        var root = new JsonObject
        {
            ["model"] = new JsonObject
            {
                ["bos_token_id"] = c.BosTokenId ?? 1,
                ["context_length"] = contextLength,
                ["decoder"] = new JsonObject
                {
                    ["session_options"] = new JsonObject { ["log_id"] = "onnxruntime-genai", ["provider_options"] = new JsonArray() },
                    ["filename"] = modelFile,
                    ["head_size"] = c.HeadSize,
                    ["hidden_size"] = c.HiddenSize,
                    ["inputs"] = new JsonObject
                    {
                        ["input_ids"] = "input_ids",
                        ["attention_mask"] = "attention_mask",
                        ["position_ids"] = "position_ids",
                        ["past_key_names"] = "past_key_values.%d.key",
                        ["past_value_names"] = "past_key_values.%d.value",
                    },
                    ["outputs"] = new JsonObject
                    {
                        ["logits"] = "logits",
                        ["present_key_names"] = "present.%d.key",
                        ["present_value_names"] = "present.%d.value",
                    },
                    ["num_attention_heads"] = c.NumHeads,
                    ["num_hidden_layers"] = c.NumLayers,
                    ["num_key_value_heads"] = c.NumKvHeads,
                },
                ["eos_token_id"] = c.EosTokenIds.Count > 0 ? Eos() : 2,
                ["pad_token_id"] = padTokenId,
                ["type"] = c.ModelType,
                ["vocab_size"] = c.VocabSize,
            },
            ["search"] = new JsonObject
            {
                ["diversity_penalty"] = 0.0,
                ["do_sample"] = false,
                ["early_stopping"] = true,
                ["length_penalty"] = 1.0,
                ["max_length"] = contextLength,
                ["min_length"] = 0,
                ["no_repeat_ngram_size"] = 0,
                ["num_beams"] = 1,
                ["num_return_sequences"] = 1,
                ["past_present_share_buffer"] = sharedBuffer,
                ["repetition_penalty"] = 1.0,
                ["temperature"] = 1.0,
                ["top_k"] = 1,
                ["top_p"] = 1.0,
            },
        };
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
