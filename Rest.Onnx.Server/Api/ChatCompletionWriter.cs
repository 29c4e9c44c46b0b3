using System.Text.Json;
using Microsoft.Extensions.AI;
using Rest.Onnx.Server.Serving;

namespace Rest.Onnx.Server.Api;

/// <summary>The response bodies of <c>/v1/chat/completions</c> in OpenAI's shapes, plus the <c>rest</c> statistics object.</summary>
internal sealed class ChatCompletionWriter(string id, string model, DateTimeOffset created, PreparedRequest request)
{
    public static string NewId() => "chatcmpl-" + Guid.NewGuid().ToString("N");

    /// <summary>A whole completion (<c>object: chat.completion</c>).</summary>
    public void WriteCompletion(Utf8JsonWriter json, string text, ChatFinishReason? finish, UsageDetails? usage, GenerationStatistics? statistics, StopReason? stop, TimeSpan queued)
    {
        json.WriteStartObject();
        WriteHeader(json, "chat.completion");
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        json.WriteStartObject("message");
        json.WriteString("role", "assistant");
        json.WriteString("content", text);
        json.WriteNull("refusal");
        json.WriteEndObject();
        json.WriteNull("logprobs");
        json.WriteString("finish_reason", FinishReason(finish));
        json.WriteEndObject();
        json.WriteEndArray();
        WriteUsage(json, usage);
        WriteStatistics(json, statistics, stop, queued);
        json.WriteEndObject();
    }

    /// <summary>A streaming chunk (<c>object: chat.completion.chunk</c>) with a role and/or content delta.</summary>
    public void WriteDelta(Utf8JsonWriter json, string? role, string content)
    {
        json.WriteStartObject();
        WriteHeader(json, "chat.completion.chunk");
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        json.WriteStartObject("delta");
        if (role is not null) json.WriteString("role", role);
        json.WriteString("content", content);
        json.WriteEndObject();
        json.WriteNull("logprobs");
        json.WriteNull("finish_reason");
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>The chunk that ends the choice: empty delta, the finish reason and the <c>rest</c> statistics.</summary>
    public void WriteFinish(Utf8JsonWriter json, ChatFinishReason? finish, GenerationStatistics? statistics, StopReason? stop, TimeSpan queued)
    {
        json.WriteStartObject();
        WriteHeader(json, "chat.completion.chunk");
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        json.WriteStartObject("delta");
        json.WriteEndObject();
        json.WriteNull("logprobs");
        json.WriteString("finish_reason", FinishReason(finish));
        json.WriteEndObject();
        json.WriteEndArray();
        WriteStatistics(json, statistics, stop, queued);
        json.WriteEndObject();
    }

    /// <summary>The last chunk when <c>stream_options.include_usage</c> is set: no choices, the usage.</summary>
    public void WriteUsageChunk(Utf8JsonWriter json, UsageDetails? usage)
    {
        json.WriteStartObject();
        WriteHeader(json, "chat.completion.chunk");
        json.WriteStartArray("choices");
        json.WriteEndArray();
        WriteUsage(json, usage);
        json.WriteEndObject();
    }

    private void WriteHeader(Utf8JsonWriter json, string kind)
    {
        json.WriteString("id", id);
        json.WriteString("object", kind);
        json.WriteNumber("created", created.ToUnixTimeSeconds());
        json.WriteString("model", model);
        json.WriteNull("system_fingerprint");
    }

    private static string FinishReason(ChatFinishReason? finish) => finish == ChatFinishReason.Stop ? "stop" : "length";

    private static void WriteUsage(Utf8JsonWriter json, UsageDetails? usage)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", usage?.InputTokenCount ?? 0);
        json.WriteNumber("completion_tokens", usage?.OutputTokenCount ?? 0);
        json.WriteNumber("total_tokens", usage?.TotalTokenCount ?? 0);
        json.WriteStartObject("prompt_tokens_details");
        json.WriteNumber("cached_tokens", usage?.CachedInputTokenCount ?? 0);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>The extension object: how the request was drafted and what speculation achieved.</summary>
    private void WriteStatistics(Utf8JsonWriter json, GenerationStatistics? s, StopReason? stop, TimeSpan queued)
    {
        json.WriteStartObject("rest");
        json.WriteString("drafting", request.Drafting);
        if (request.Budget == DraftOptions.AutoBudget) json.WriteString("budget", "auto");
        else json.WriteNumber("budget", request.Budget);
        json.WriteBoolean("history", request.History);
        if (stop is { } reason) json.WriteString("stop_reason", reason.ToString());
        if (s is not null)
        {
            json.WriteNumber("verification_steps", s.VerificationSteps);
            json.WriteNumber("tokens_per_step", Math.Round(s.MeanAcceptedTokensPerStep, 3));
            json.WriteNumber("draft_tokens_verified", s.DraftTokensVerified);
            json.WriteNumber("tokens_per_second", Math.Round(s.TokensPerSecond, 1));
            json.WriteNumber("prefill_ms", Math.Round(s.PrefillTime.TotalMilliseconds, 3));
            json.WriteNumber("decode_ms", Math.Round(s.DecodeTime.TotalMilliseconds, 3));
            json.WriteNumber("drafting_ms", Math.Round(s.DraftingTime.TotalMilliseconds, 3));
            json.WriteNumber("model_ms", Math.Round(s.ModelTime.TotalMilliseconds, 3));
        }
        json.WriteNumber("queue_ms", Math.Round(queued.TotalMilliseconds, 3));
        json.WriteEndObject();
    }
}
