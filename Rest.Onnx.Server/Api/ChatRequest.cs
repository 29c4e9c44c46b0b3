using Microsoft.Extensions.AI;

namespace Rest.Onnx.Server.Api;

/// <summary>A validated <c>POST /v1/chat/completions</c> body (see <see cref="ChatRequestParser"/> for what each field may be).</summary>
internal sealed record ChatRequest
{
    public required IReadOnlyList<ChatMessage> Messages { get; init; }

    /// <summary>The model the client named; null when it named none.</summary>
    public string? Model { get; init; }

    /// <summary><c>max_completion_tokens</c> or <c>max_tokens</c>; null: as much as the context leaves, capped by the server's default.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Null: OpenAI's default, 1 (sampling); 0: greedy.</summary>
    public float? Temperature { get; init; }

    public float? TopP { get; init; }

    public int? TopK { get; init; }

    public long? Seed { get; init; }

    public IReadOnlyList<string> Stop { get; init; } = [];

    public bool Stream { get; init; }

    /// <summary><c>stream_options.include_usage</c>: a last chunk with the usage and no choices.</summary>
    public bool IncludeUsage { get; init; }

    /// <summary>The <c>rest</c> extension object.</summary>
    public RestRequestOptions Rest { get; init; } = new();
}

/// <summary>
/// The request's <c>rest</c> extension: <c>{"drafting": "none"|"promptlookup"|"rest"|"hybrid", "budget": "auto"|N, "history": bool}</c>
/// (drafting names are checked by <see cref="Serving.ChatService.Prepare"/>, which knows the server's); each null keeps the server's default.
/// </summary>
internal sealed record RestRequestOptions
{
    public string? Drafting { get; init; }

    /// <summary>Draft budget; <see cref="DraftOptions.AutoBudget"/> for <c>"auto"</c>.</summary>
    public int? Budget { get; init; }

    public bool? History { get; init; }
}
