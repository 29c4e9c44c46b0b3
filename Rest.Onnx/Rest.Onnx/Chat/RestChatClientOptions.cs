namespace Rest.Onnx.Chat;

/// <summary>How a <see cref="RestChatClient"/> turns conversations into runs. Immutable.</summary>
public sealed record RestChatClientOptions
{
    /// <summary>
    /// The chat template; null reads the model folder's (<c>chat_template.jinja</c> or <c>tokenizer_config.json</c>'s
    /// <c>chat_template</c>). Give one for a model that has none (for example <c>ChatTemplate.Parse(...).WithSpecialTokens("&lt;s&gt;", "&lt;/s&gt;")</c>).
    /// </summary>
    public ChatTemplate? Template { get; init; }

    /// <summary>
    /// The run's defaults: drafting strategy (None, PromptLookup, Rest, Hybrid), draft budget, decoding, token limit;
    /// each request's <c>ChatOptions</c> (max output tokens, stop sequences, temperature, top-p, top-k, seed) override them.
    /// </summary>
    public GenerationOptions Generation { get; init; } = new() { MaxNewTokens = 256 };

    /// <summary>
    /// Keep the KV cache of the previous turn's sequence as far as the new conversation repeats it
    /// (<see cref="GenerationOptions.ReuseCachedPrefix"/>), so a follow-up turn prefills only its new part. On by default.
    /// </summary>
    public bool ReuseCachedPrefix { get; init; } = true;

    /// <summary>Extra template variables (for example <c>enable_thinking</c> or <c>date_string</c>).</summary>
    public IReadOnlyDictionary<string, object?>? TemplateVariables { get; init; }

    /// <summary>Model id reported in responses and metadata; null uses the model folder's name.</summary>
    public string? ModelId { get; init; }
}
