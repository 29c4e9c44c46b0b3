using System.Text.Json;
using Rest.Onnx.Server.Serving;

namespace Rest.Onnx.Server.Api;

/// <summary><c>GET /v1/models</c>, <c>GET /v1/models/{id}</c> (OpenAI's list and model objects) and <c>GET /health</c> (the pool and the counters).</summary>
internal static class InfoEndpoints
{
    public static async Task Models(HttpContext context, ChatService service)
    {
        context.Response.ContentType = "application/json";
        await using var json = JsonOutput.Writer(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("object", "list");
        json.WriteStartArray("data");
        WriteModel(json, service);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static async Task Model(HttpContext context, ChatService service, string id)
    {
        if (id != service.ModelId)
        {
            await new ApiError(StatusCodes.Status404NotFound, $"The model '{id}' does not exist; this server serves '{service.ModelId}'.", "invalid_request_error", "model", "model_not_found")
                .WriteAsync(context.Response);
            return;
        }
        context.Response.ContentType = "application/json";
        await using var json = JsonOutput.Writer(context.Response.Body);
        WriteModel(json, service);
    }

    public static async Task Health(HttpContext context, ChatService service)
    {
        context.Response.ContentType = "application/json";
        await using var json = JsonOutput.Writer(context.Response.Body);
        var pool = service.Pool;
        json.WriteStartObject();
        json.WriteString("status", "ok");
        json.WriteString("model", service.ModelId);
        json.WriteNumber("context", service.Model.MaxSequenceLength);
        json.WriteString("template", service.TemplateName);
        json.WriteString("drafting", service.DefaultDrafting);
        json.WriteBoolean("datastore", service.Datastore is not null);
        json.WriteNumber("generators", pool.Size);
        json.WriteNumber("idle", pool.Idle);
        json.WriteNumber("queued", pool.Queued);
        json.WriteNumber("queue_limit", pool.QueueLimit);
        json.WriteNumber("history_tokens", service.Model.History.Count);
        json.WriteNumber("requests", service.Requests);
        json.WriteNumber("completed", service.Completed);
        json.WriteNumber("cancelled", service.Cancelled);
        json.WriteNumber("rejected", service.Rejected);
        json.WriteNumber("failed", service.Failed);
        json.WriteEndObject();
    }

    /// <summary>Any other path: 404 with the error body.</summary>
    public static Task NotFound(HttpContext context)
        => new ApiError(StatusCodes.Status404NotFound, $"No route {context.Request.Method} {context.Request.Path}; this server has POST /v1/chat/completions, GET /v1/models, GET /health.",
            "invalid_request_error", null, "unknown_url").WriteAsync(context.Response);

    private static void WriteModel(Utf8JsonWriter json, ChatService service)
    {
        json.WriteStartObject();
        json.WriteString("id", service.ModelId);
        json.WriteString("object", "model");
        json.WriteNumber("created", service.Started.ToUnixTimeSeconds());
        json.WriteString("owned_by", "rest-onnx");
        json.WriteEndObject();
    }
}
