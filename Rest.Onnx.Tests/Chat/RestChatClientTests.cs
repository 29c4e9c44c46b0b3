using Microsoft.Extensions.AI;
using Rest.Onnx.Chat;
using Rest.Onnx.Tests.Runtime;

namespace Rest.Onnx.Tests.Chat;

/// <summary>
/// <see cref="RestChatClient"/> on a tiny random model with the demo model's SentencePiece tokenizer (no chat template
/// of its own, so the tests supply one): streaming, usage, prefix reuse across turns, cancellation, stop sequences,
/// token limits and drafting, each checked against the generator run directly on the rendered prompt.
/// </summary>
public sealed class RestChatClientTests
{
    private const string TemplateText =
        "{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>\n{{ m.content | trim }}{{ eos_token }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}";

    private static readonly ChatTemplate Template = ChatTemplate.Parse(TemplateText).WithSpecialTokens("<s>", "</s>");

    private RestModel _model = null!;
    private RestChatClient _client = null!;

    private static readonly List<ChatMessage> Conversation =
    [
        new(ChatRole.System, "You write Python."),
        new(ChatRole.User, "def add(a, b):"),
    ];

    [OneTimeSetUp]
    public void Open()
    {
        var tokenizer = TinyModels.DemoTokenizerPath();
        var folder = TinyModels.Folder(TinyModels.Default with { VocabSize = Rest.Onnx.Tokenization.TextTokenizer.Load(tokenizer).VocabularySize, TokenizerPath = tokenizer });
        _model = RestModel.Load(folder, new ModelOptions { MaxSequenceLength = 256, IntraOpThreads = 1 });
        _client = new RestChatClient(_model, Options());
    }

    [OneTimeTearDown]
    public void Close()
    {
        _client.Dispose();
        _model.Dispose();
    }

    private static RestChatClientOptions Options(DraftingStrategy? drafting = null) => new()
    {
        Template = Template,
        // A fixed budget, so the acceptance the tests assert does not depend on what the auto budget measures on this machine.
        Generation = new GenerationOptions { MaxNewTokens = 40, Drafting = drafting ?? DraftingStrategy.None, Draft = new DraftOptions { Budget = 64 } },
    };

    /// <summary>What the generator itself produces for the rendered conversation (greedy, fresh cache).</summary>
    private string Direct(RestChatClient client, IEnumerable<ChatMessage> messages, int maxNewTokens = 40)
    {
        using var generator = _model.CreateGenerator();
        var prompt = client.EncodePrompt(client.RenderPrompt(messages));
        return generator.Generate(prompt, new GenerationOptions { MaxNewTokens = maxNewTokens, StopTokenIds = _model.Manifest.EosTokenIds }).Text!;
    }

    [Test]
    public void A_model_without_a_chat_template_needs_one_from_the_caller()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new RestChatClient(_model));
        Assert.That(e!.Message, Does.Contain("no chat template").And.Contain("RestChatClientOptions.Template"));

        var withTemplate = TinyModels.CopyWithFile(_model.Folder, TokenizerChatConfig.FileName,
            $$"""{ "bos_token": "<s>", "eos_token": "</s>", "chat_template": {{System.Text.Json.JsonSerializer.Serialize(TemplateText)}} }""");
        using var model = RestModel.Load(withTemplate, new ModelOptions { MaxSequenceLength = 256, IntraOpThreads = 1 });
        using var client = new RestChatClient(model);
        Assert.That(client.RenderPrompt(Conversation), Is.EqualTo(_client.RenderPrompt(Conversation)));
    }

    [Test]
    public void The_rendered_prompt_encodes_special_token_texts_as_their_ids()
    {
        var text = _client.RenderPrompt(Conversation);
        Assert.That(text, Is.EqualTo("<s><|system|>\nYou write Python.</s>\n<|user|>\ndef add(a, b):</s>\n<|assistant|>\n"));
        var ids = _client.EncodePrompt(text);
        var tokenizer = _model.Tokenizer!;
        Assert.That(ids[0], Is.EqualTo(tokenizer.BosId));
        Assert.That(ids.Count(i => i == tokenizer.EosId), Is.EqualTo(2));
        Assert.That(ids.Length, Is.EqualTo(3 + tokenizer.Encode("<|system|>\nYou write Python.").Length + tokenizer.Encode("\n<|user|>\ndef add(a, b):").Length + tokenizer.Encode("\n<|assistant|>\n").Length));
    }

    [Test]
    public async Task Streaming_yields_step_by_step_and_equals_the_response_and_the_generator()
    {
        var expected = Direct(_client, Conversation);
        var stream = _client.GetStreamingResponseAsync(Conversation).GetAsyncEnumerator();
        var first = stream.MoveNextAsync();
        Assert.That(first.IsCompleted, Is.False, "the first step runs after a yield, not inside the call");
        var updates = new List<ChatResponseUpdate>();
        if (await first) updates.Add(stream.Current);
        while (await stream.MoveNextAsync()) updates.Add(stream.Current);
        await stream.DisposeAsync();

        Assert.That(updates.Count(u => u.Text.Length > 0), Is.GreaterThan(3), "text arrives in several updates");
        Assert.That(string.Concat(updates.Select(u => u.Text)), Is.EqualTo(expected));
        var last = updates[^1];
        var usage = last.Contents.OfType<UsageContent>().Single().Details;
        Assert.That(usage.InputTokenCount, Is.EqualTo(_client.EncodePrompt(_client.RenderPrompt(Conversation)).Length));
        Assert.That(last.AdditionalProperties![RestChatClient.StatisticsKey], Is.InstanceOf<GenerationStatistics>());

        var response = await _client.GetResponseAsync(Conversation);
        Assert.That(response.Text, Is.EqualTo(expected));
        Assert.That(response.Usage!.OutputTokenCount, Is.EqualTo(((GenerationStatistics)response.AdditionalProperties![RestChatClient.StatisticsKey]!).TokensGenerated));
        Assert.That(response.Usage.TotalTokenCount, Is.EqualTo(response.Usage.InputTokenCount + response.Usage.OutputTokenCount));
    }

    [Test]
    public async Task A_follow_up_turn_reuses_the_cached_conversation_and_equals_a_fresh_client()
    {
        using var client = new RestChatClient(_model, Options());
        var first = await client.GetResponseAsync(Conversation);
        List<ChatMessage> next = [.. Conversation, new(ChatRole.Assistant, first.Text), new(ChatRole.User, "def sub(a, b):")];

        var second = await client.GetResponseAsync(next);
        var firstPrompt = first.Usage!.InputTokenCount!.Value;
        Assert.That(second.Usage!.CachedInputTokenCount, Is.GreaterThanOrEqualTo(firstPrompt), "at least the first turn's prompt is not prefilled again");
        Assert.That(second.Usage.CachedInputTokenCount, Is.LessThan(second.Usage.InputTokenCount!.Value));

        using var fresh = new RestChatClient(_model, Options() with { ReuseCachedPrefix = false });
        var expected = await fresh.GetResponseAsync(next);
        Assert.That(expected.Usage!.CachedInputTokenCount, Is.Zero);
        Assert.That(second.Text, Is.EqualTo(expected.Text));
        Assert.That(second.Usage.OutputTokenCount, Is.EqualTo(expected.Usage.OutputTokenCount));
        var reused = (GenerationStatistics)second.AdditionalProperties![RestChatClient.StatisticsKey]!;
        var recomputed = (GenerationStatistics)expected.AdditionalProperties![RestChatClient.StatisticsKey]!;
        TestContext.Out.WriteLine($"turn 2: {second.Usage.InputTokenCount} prompt tokens, {second.Usage.CachedInputTokenCount} cached; prefill {reused.PrefillTime.TotalMilliseconds:F2} ms vs {recomputed.PrefillTime.TotalMilliseconds:F2} ms fresh; text '{second.Text}'");
    }

    [Test]
    public async Task Cancelling_a_stream_stops_it_and_the_client_stays_usable()
    {
        using var client = new RestChatClient(_model, Options());
        using var cts = new CancellationTokenSource();
        var received = 0;
        Assert.ThrowsAsync(Is.InstanceOf<OperationCanceledException>(), async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync(Conversation, null, cts.Token))
            {
                if (update.Text.Length > 0 && ++received == 2) await cts.CancelAsync();
            }
        });
        Assert.That(received, Is.EqualTo(2));
        Assert.That((await client.GetResponseAsync(Conversation)).Text, Is.EqualTo(Direct(client, Conversation)));
    }

    [Test]
    public async Task Stop_sequences_and_max_output_tokens_end_the_turn()
    {
        var full = Direct(_client, Conversation);
        Assume.That(full.Length, Is.GreaterThan(12));
        var stop = full.Substring(8, 3);
        var stopped = await _client.GetResponseAsync(Conversation, new ChatOptions { StopSequences = [stop] });
        Assert.That(stopped.Text, Is.EqualTo(full[..full.IndexOf(stop, StringComparison.Ordinal)]));
        Assert.That(stopped.FinishReason, Is.EqualTo(ChatFinishReason.Stop));
        Assert.That(stopped.AdditionalProperties![RestChatClient.StopReasonKey], Is.EqualTo(StopReason.StopString));

        var limited = await _client.GetResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 5 });
        Assert.That(limited.Usage!.OutputTokenCount, Is.EqualTo(5));
        Assert.That(limited.FinishReason, Is.EqualTo(ChatFinishReason.Length));
        Assert.That(full, Does.StartWith(limited.Text));
    }

    [Test]
    public async Task Drafting_strategies_give_the_greedy_text()
    {
        var expected = Direct(_client, Conversation);
        using var lookup = new RestChatClient(_model, Options(DraftingStrategy.PromptLookup));
        Assert.That((await lookup.GetResponseAsync(Conversation)).Text, Is.EqualTo(expected));
        var perRequest = new ChatOptions { AdditionalProperties = new() { [RestChatClient.DraftingKey] = DraftingStrategy.PromptLookup } };
        Assert.That((await _client.GetResponseAsync(Conversation, perRequest)).Text, Is.EqualTo(expected));
    }

    [Test]
    public async Task Per_request_generation_options_replace_the_clients_and_chat_options_apply_on_top()
    {
        var generation = new GenerationOptions { MaxNewTokens = 7, Drafting = DraftingStrategy.PromptLookup, Draft = new DraftOptions { Budget = 4 } };
        var own = await _client.GetResponseAsync(Conversation, new ChatOptions { AdditionalProperties = new() { [RestChatClient.GenerationKey] = generation } });
        Assert.That(own.Usage!.OutputTokenCount, Is.EqualTo(7), "the request's MaxNewTokens, not the client's 40");
        Assert.That(own.Text, Is.EqualTo(Direct(_client, Conversation, maxNewTokens: 7)));

        var capped = await _client.GetResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 3, AdditionalProperties = new() { [RestChatClient.GenerationKey] = generation } });
        Assert.That(capped.Usage!.OutputTokenCount, Is.EqualTo(3), "ChatOptions.MaxOutputTokens applies on top");

        var wrong = new ChatOptions { AdditionalProperties = new() { [RestChatClient.GenerationKey] = "fast" } };
        var e = Assert.ThrowsAsync<ArgumentException>(() => _client.GetResponseAsync(Conversation, wrong));
        Assert.That(e!.Message, Does.Contain(RestChatClient.GenerationKey));
    }

    [Test]
    public async Task Rest_and_hybrid_drafting_from_a_datastore_accept_drafts_and_give_the_greedy_text()
    {
        var prompt = _client.EncodePrompt(_client.RenderPrompt(Conversation));
        int[] continuation;
        using (var generator = _model.CreateGenerator())
            continuation = [.. generator.Generate(prompt, new GenerationOptions { MaxNewTokens = 40, StopTokenIds = _model.Manifest.EosTokenIds }).Tokens];
        // A corpus that holds this conversation's greedy continuation, so the datastore's drafts are accepted.
        var path = TestDatastores.Build([[.. prompt, .. continuation]], _model.Manifest.VocabSize, _model.Tokenizer!.Fingerprint);
        try
        {
            using var store = _model.OpenDatastore(path);
            var expected = Direct(_client, Conversation);
            foreach (var strategy in new[] { DraftingStrategy.Rest(store), DraftingStrategy.Hybrid(store) })
            {
                using var client = new RestChatClient(_model, Options(strategy));
                var response = await client.GetResponseAsync(Conversation);
                Assert.That(response.Text, Is.EqualTo(expected));
                var statistics = (GenerationStatistics)response.AdditionalProperties![RestChatClient.StatisticsKey]!;
                Assert.That(statistics.MeanAcceptedTokensPerStep, Is.GreaterThan(2), "drafts from the datastore were accepted");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public async Task Sampling_options_map_and_a_seed_repeats()
    {
        var options = new ChatOptions { Temperature = 0.8f, TopP = 0.9f, TopK = 50, Seed = 7 };
        var a = await _client.GetResponseAsync(Conversation, options);
        var b = await _client.GetResponseAsync(Conversation, options.Clone());
        Assert.That(a.Text, Is.EqualTo(b.Text));
        Assert.That(a.Text, Is.Not.Empty);
        Assert.That((await _client.GetResponseAsync(Conversation, new ChatOptions { Temperature = 0 })).Text, Is.EqualTo(Direct(_client, Conversation)));
    }

    [Test]
    public void Non_text_content_and_tools_are_clear_errors()
    {
        List<ChatMessage> withData = [new(ChatRole.User, [new DataContent(new byte[] { 1 }, "image/png")])];
        var e = Assert.ThrowsAsync<NotSupportedException>(() => _client.GetResponseAsync(withData));
        Assert.That(e!.Message, Does.Contain("DataContent"));
        var tools = new ChatOptions { Tools = [AIFunctionFactory.Create(() => 1, "one")] };
        Assert.ThrowsAsync<NotSupportedException>(() => _client.GetResponseAsync(Conversation, tools));
    }

    [Test]
    public void Metadata_and_services()
    {
        Assert.That(_client.GetService<ChatClientMetadata>()!.ProviderName, Is.EqualTo("rest-onnx"));
        Assert.That(_client.GetService<RestModel>(), Is.SameAs(_model));
        Assert.That(_client.GetService<ChatTemplate>(), Is.SameAs(Template));
    }
}
