using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.AI;
using Rest.Onnx.Acceptance;

namespace Rest.Onnx.Chat;

/// <summary>
/// <see cref="IChatClient"/> over a <see cref="RestModel"/>: renders the conversation with the model's chat template
/// (as Hugging Face's <c>apply_chat_template</c> with <c>add_generation_prompt=True</c>), encodes it (the template's
/// special-token texts become their single ids), and generates with the configured drafting strategy. A follow-up
/// turn reuses the KV cache of the conversation so far. Owns one <see cref="Generator"/>: requests run one at a time
/// (concurrent ones wait). Dispose to release the generator; the model stays the caller's.
/// </summary>
/// <remarks>
/// <c>ChatOptions</c> map as follows: <c>MaxOutputTokens</c> to <see cref="GenerationOptions.MaxNewTokens"/>,
/// <c>StopSequences</c> to <see cref="GenerationOptions.StopStrings"/>, <c>Temperature</c> above 0 to sampling
/// (0 to greedy), <c>TopP</c>, <c>TopK</c> and <c>Seed</c> to <see cref="SamplingOptions"/>, <c>Instructions</c> to a
/// leading system message; <c>AdditionalProperties[<see cref="DraftingKey"/>]</c> may carry a
/// <see cref="DraftingStrategy"/> for one request, <c>AdditionalProperties[<see cref="GenerationKey"/>]</c> the whole
/// <see cref="GenerationOptions"/> it starts from. Responses carry <c>Usage</c> (input, output and cached input
/// tokens) and, in <c>AdditionalProperties</c>, the run's <see cref="GenerationStatistics"/> under
/// <see cref="StatisticsKey"/> and its <see cref="StopReason"/> under <see cref="StopReasonKey"/>.
/// </remarks>
public sealed class RestChatClient : IChatClient
{
    /// <summary><c>ChatOptions.AdditionalProperties</c> key for a per-request <see cref="DraftingStrategy"/>.</summary>
    public const string DraftingKey = "rest.drafting";

    /// <summary>
    /// <c>ChatOptions.AdditionalProperties</c> key for per-request <see cref="GenerationOptions"/> that replace
    /// <see cref="RestChatClientOptions.Generation"/> for that request (draft budget, history, ...); the other
    /// <c>ChatOptions</c> (and <see cref="DraftingKey"/>) still apply on top.
    /// </summary>
    public const string GenerationKey = "rest.generation";

    /// <summary>Response <c>AdditionalProperties</c> key of the run's <see cref="GenerationStatistics"/>.</summary>
    public const string StatisticsKey = "rest.statistics";

    /// <summary>Response <c>AdditionalProperties</c> key of the run's <see cref="Onnx.StopReason"/>.</summary>
    public const string StopReasonKey = "rest.stopReason";

    private readonly RestModel _model;
    private readonly RestChatClientOptions _options;
    private readonly Generator _generator;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly (string Text, int Id)[] _specialTokens;
    private readonly int[] _stopTokens;
    private readonly ChatClientMetadata _metadata;
    private bool _disposed;

    /// <summary>Creates a client over <paramref name="model"/> (which must have a tokenizer).</summary>
    /// <exception cref="InvalidOperationException">The model has no tokenizer, or no chat template and none is given in <paramref name="options"/>.</exception>
    /// <exception cref="ChatTemplateException">The model folder's template does not parse.</exception>
    /// <exception cref="InvalidDataException">The folder's <c>tokenizer_config.json</c> is malformed.</exception>
    public RestChatClient(RestModel model, RestChatClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _options = options ?? new RestChatClientOptions();
        ArgumentNullException.ThrowIfNull(_options.Generation, nameof(options));
        var tokenizer = model.Tokenizer ?? throw new InvalidOperationException($"Model '{model.Folder}' has no tokenizer; a chat client needs one.");
        var config = TokenizerChatConfig.Load(model.Folder);
        Template = _options.Template ?? config.ParseTemplate() ?? throw new InvalidOperationException(
            $"Model '{model.Folder}' has no chat template (no chat_template in {TokenizerChatConfig.FileName}, no {TokenizerChatConfig.TemplateFileName}); pass one in RestChatClientOptions.Template.");

        var special = new Dictionary<string, int>(config.AddedTokens, StringComparer.Ordinal);
        var bos = model.Manifest.BosTokenId ?? tokenizer.BosId;
        if (Template.BosToken.Length > 0 && bos >= 0) special.TryAdd(Template.BosToken, bos);
        var eos = model.Manifest.EosTokenIds.Count > 0 ? model.Manifest.EosTokenIds[0] : tokenizer.EosId;
        if (Template.EosToken.Length > 0 && eos >= 0) special.TryAdd(Template.EosToken, eos);
        _specialTokens = [.. special.Where(p => p.Key.Length > 0 && (uint)p.Value < (uint)model.Manifest.VocabSize)
            .OrderByDescending(p => p.Key.Length).Select(p => (p.Key, p.Value))];

        // The turn ends at the model's EOS ids or at the template's end-of-turn token (e.g. <|eot_id|>, <|im_end|>).
        var stops = new List<int>(_options.Generation.StopTokenIds ?? model.Manifest.EosTokenIds);
        if (_options.Generation.StopTokenIds is null && Template.EosToken.Length > 0 && special.TryGetValue(Template.EosToken, out var eot) && !stops.Contains(eot)) stops.Add(eot);
        _stopTokens = [.. stops];

        _generator = model.CreateGenerator();
        _metadata = new ChatClientMetadata("rest-onnx", null, _options.ModelId ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(model.Folder)));
    }

    /// <summary>The template conversations are rendered with.</summary>
    public ChatTemplate Template { get; }

    /// <summary>Renders <paramref name="messages"/> as the prompt text the model sees (with the assistant header appended).</summary>
    /// <exception cref="ChatTemplateException">The template rejects the conversation.</exception>
    /// <exception cref="NotSupportedException">A message has non-text content.</exception>
    public string RenderPrompt(IEnumerable<ChatMessage> messages, ChatOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var turns = new List<ChatTemplateMessage>();
        if (!string.IsNullOrEmpty(options?.Instructions)) turns.Add(new ChatTemplateMessage("system", options.Instructions));
        var index = 0;
        foreach (var message in messages)
        {
            ArgumentNullException.ThrowIfNull(message, nameof(messages));
            foreach (var content in message.Contents)
            {
                if (content is not TextContent)
                    throw new NotSupportedException($"Message {index} has {content.GetType().Name}; RestChatClient supports text content only.");
            }
            turns.Add(new ChatTemplateMessage(message.Role.Value, message.Text));
            index++;
        }
        return Template.Render(turns, addGenerationPrompt: true, _options.TemplateVariables);
    }

    /// <summary>Token ids of a rendered prompt: special-token texts become their ids, the text between them is encoded by the tokenizer.</summary>
    public int[] EncodePrompt(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var tokenizer = _model.Tokenizer!;
        var ids = new List<int>();
        var start = 0;
        var i = 0;
        while (i < prompt.Length)
        {
            var match = -1;
            if (prompt[i] is var c)
            {
                for (var s = 0; s < _specialTokens.Length; s++)
                {
                    var text = _specialTokens[s].Text;
                    if (text[0] == c && string.CompareOrdinal(prompt, i, text, 0, text.Length) == 0)
                    {
                        match = s;
                        break;
                    }
                }
            }
            if (match < 0)
            {
                i++;
                continue;
            }
            if (i > start) tokenizer.Encode(prompt.AsSpan(start, i - start), ids);
            ids.Add(_specialTokens[match].Id);
            i += _specialTokens[match].Text.Length;
            start = i;
        }
        if (start < prompt.Length) tokenizer.Encode(prompt.AsSpan(start), ids);
        return [.. ids];
    }

    /// <inheritdoc/>
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var text = new StringBuilder();
        ChatResponseUpdate? last = null;
        await foreach (var update in GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false))
        {
            text.Append(update.Text);
            last = update;
        }
        var message = new ChatMessage(ChatRole.Assistant, text.ToString()) { MessageId = last?.MessageId };
        return new ChatResponse(message)
        {
            ResponseId = last?.ResponseId,
            ModelId = last?.ModelId,
            CreatedAt = last?.CreatedAt,
            FinishReason = last?.FinishReason,
            Usage = last?.Contents.OfType<UsageContent>().FirstOrDefault()?.Details,
            AdditionalProperties = last?.AdditionalProperties,
        };
    }

    /// <inheritdoc/>
    /// <remarks>One update per verification step with the new text (REST steps may add several tokens); the last
    /// update has the finish reason, a <see cref="UsageContent"/> and the statistics.</remarks>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var generation = MapOptions(options);
        var prompt = EncodePrompt(RenderPrompt(messages, options));
        var responseId = Guid.NewGuid().ToString("N");
        var modelId = _metadata.DefaultModelId;
        var created = DateTimeOffset.UtcNow;

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The generator's streaming loop, kept here to read the run's stop reason: a Task.Yield before every step.
            var run = _generator.Begin(generation, cancellationToken);
            try
            {
                await Task.Yield();
                _generator.Append(run, prompt);
                while (true)
                {
                    await Task.Yield();
                    var more = _generator.Step(run);
                    var text = run.Text?.TakeNew(final: !more) ?? string.Empty;
                    if (text.Length > 0)
                        yield return new ChatResponseUpdate(ChatRole.Assistant, text) { ResponseId = responseId, MessageId = responseId, ModelId = modelId, CreatedAt = created };
                    if (!more) break;
                }
            }
            finally
            {
                _generator.End(run);
            }
            var statistics = run.Statistics;
            var stop = run.StopReason;
            var usage = new UsageDetails
            {
                InputTokenCount = statistics.PromptTokens,
                CachedInputTokenCount = statistics.ReusedPromptTokens,
                OutputTokenCount = statistics.TokensGenerated,
                TotalTokenCount = statistics.PromptTokens + statistics.TokensGenerated,
            };
            yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(usage)])
            {
                ResponseId = responseId,
                MessageId = responseId,
                ModelId = modelId,
                CreatedAt = created,
                FinishReason = stop is StopReason.StopToken or StopReason.StopString ? ChatFinishReason.Stop : ChatFinishReason.Length,
                AdditionalProperties = new AdditionalPropertiesDictionary { [StatisticsKey] = statistics, [StopReasonKey] = stop },
            };
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(ChatClientMetadata)) return _metadata;
        if (serviceType == typeof(RestModel)) return _model;
        if (serviceType == typeof(ChatTemplate)) return Template;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Releases the generator (its KV cache). The model is not disposed.</summary>
    /// <exception cref="InvalidOperationException">A request is still running.</exception>
    public void Dispose()
    {
        if (_disposed) return;
        _generator.Dispose();
        _gate.Dispose();
        _disposed = true;
    }

    private GenerationOptions MapOptions(ChatOptions? options)
    {
        var defaults = _options.Generation;
        if (options?.AdditionalProperties?.TryGetValue(GenerationKey, out var generation) == true)
        {
            defaults = generation as GenerationOptions ?? throw new ArgumentException($"ChatOptions.AdditionalProperties[\"{GenerationKey}\"] must be GenerationOptions.", nameof(options));
        }
        var g = defaults with { ReuseCachedPrefix = _options.ReuseCachedPrefix, StopTokenIds = _stopTokens };
        if (options is null) return g;
        if (options.Tools is { Count: > 0 }) throw new NotSupportedException("RestChatClient does not support tools.");
        if (options.MaxOutputTokens is { } max) g = g with { MaxNewTokens = max };
        if (options.StopSequences is { Count: > 0 } stops) g = g with { StopStrings = [.. g.StopStrings ?? [], .. stops] };
        var sampling = g.Sampling;
        if (options.TopP is { } topP) sampling = sampling with { TopP = topP };
        if (options.TopK is { } topK) sampling = sampling with { TopK = topK };
        if (options.Seed is { } seed) sampling = sampling with { Seed = unchecked((int)seed) };
        if (options.Temperature is { } temperature)
        {
            if (temperature <= 0) g = g with { Decoding = DecodingStrategy.Greedy };
            else
            {
                sampling = sampling with { Temperature = temperature };
                g = g with { Decoding = DecodingStrategy.Sampling };
            }
        }
        g = g with { Sampling = sampling };
        if (options.AdditionalProperties?.TryGetValue(DraftingKey, out var drafting) == true)
        {
            g = g with { Drafting = drafting as DraftingStrategy ?? throw new ArgumentException($"ChatOptions.AdditionalProperties[\"{DraftingKey}\"] must be a DraftingStrategy.", nameof(options)) };
        }
        return g;
    }
}
