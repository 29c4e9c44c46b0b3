using System.ClientModel;
using System.Text.Json;
using OpenAI.Chat;
using Rest.Onnx.Server;
using Rest.Onnx.Tests.Runtime;

namespace Rest.Onnx.Tests.Server;

/// <summary>
/// The chat server through the official OpenAI .NET SDK on loopback: non-streaming and streaming completions equal the
/// generator's greedy output token for token (through the plain template one user message is the prompt itself), the
/// <c>rest</c> extension and statistics, a bounded load test with every answer checked against its own prompt,
/// cancellation mid-stream giving the generator back, and 429 when the queue is full.
/// </summary>
[NonParallelizable]
public sealed class ChatServerClientTests
{
    private const int NewTokens = 24;
    private const string Prompt = "def add(a, b):\n    return";

    /// <summary>A prompt whose greedy continuation on the tiny model runs to 900 tokens (checked), so a slow run lasts 18 s unless cancelled.</summary>
    private const string LongPrompt = "def f(x):";
    private TestServer _server = null!;
    private string _datastore = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        // A datastore holding the prompt's own greedy continuation, so REST and hybrid drafts are accepted.
        using (var model = RestModel.Load(TestServer.ModelFolder(), new ModelOptions { IntraOpThreads = 1 }))
        using (var generator = model.CreateGenerator())
        {
            var prompt = model.Tokenizer!.Encode(Prompt);
            var continuation = generator.Generate(Prompt, new GenerationOptions { MaxNewTokens = 64 }).Tokens.ToArray();
            _datastore = TestDatastores.Build([[.. prompt, .. continuation]], model.Manifest.VocabSize, model.Tokenizer.Fingerprint);
        }
        _server = await TestServer.StartAsync(new ServerOptions { Generators = 2, QueueLimit = 16, MaxTokens = 64 }, _datastore);
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await _server.DisposeAsync();
        File.Delete(_datastore);
    }

    private static ChatCompletionOptions Greedy(int maxTokens = NewTokens) => new() { Temperature = 0, MaxOutputTokenCount = maxTokens };

    [Test]
    public async Task A_completion_through_the_sdk_equals_generator_greedy()
    {
        var expected = _server.Greedy(Prompt, NewTokens);
        ChatCompletion completion = await _server.Chat().CompleteChatAsync([new UserChatMessage(Prompt)], Greedy());

        Assert.That(completion.Content.Single().Text, Is.EqualTo(expected));
        Assert.That(completion.Model, Is.EqualTo(_server.ModelId));
        Assert.That(completion.Id, Does.StartWith("chatcmpl-"));
        Assert.That(completion.FinishReason, Is.EqualTo(ChatFinishReason.Length));
        Assert.That(completion.Usage.InputTokenCount, Is.EqualTo(_server.PromptTokens(Prompt)));
        Assert.That(completion.Usage.OutputTokenCount, Is.EqualTo(NewTokens));
        Assert.That(completion.Usage.TotalTokenCount, Is.EqualTo(completion.Usage.InputTokenCount + NewTokens));
    }

    [Test]
    public async Task A_stream_through_the_sdk_arrives_step_by_step_and_equals_generator_greedy()
    {
        var expected = _server.Greedy(Prompt, NewTokens);
        var updates = new List<StreamingChatCompletionUpdate>();
        await foreach (var update in _server.Chat().CompleteChatStreamingAsync([new UserChatMessage(Prompt)], Greedy()))
            updates.Add(update);

        var text = string.Concat(updates.SelectMany(u => u.ContentUpdate).Select(p => p.Text));
        Assert.That(text, Is.EqualTo(expected));
        Assert.That(updates.Select(u => u.CompletionId).Distinct().Count(), Is.EqualTo(1));
        Assert.That(updates[0].Role, Is.EqualTo(ChatMessageRole.Assistant));
        Assert.That(updates.Single(u => u.FinishReason is not null).FinishReason, Is.EqualTo(ChatFinishReason.Length));
        var usage = updates.Single(u => u.Usage is not null).Usage;
        Assert.That(usage.OutputTokenCount, Is.EqualTo(NewTokens));
        Assert.That(usage.InputTokenCount, Is.EqualTo(_server.PromptTokens(Prompt)));
    }

    /// <summary>Without drafts every verification step is one token: the stream's chunks are the generator's own streamed pieces, one event each.</summary>
    [Test]
    public async Task A_stream_sends_one_chunk_per_verification_step()
    {
        var pieces = new List<string>();
        using (var generator = _server.Model.CreateGenerator())
        {
            await foreach (var chunk in generator.GenerateStreamingAsync(Prompt, new GenerationOptions { MaxNewTokens = NewTokens }))
                if (chunk.Text.Length > 0) pieces.Add(chunk.Text);
        }
        var streamed = new List<string>();
        await foreach (var update in _server.Chat().CompleteChatStreamingAsync([new UserChatMessage(Prompt)], TestServer.WithRest(NewTokens, """{"drafting":"none"}""")))
            streamed.AddRange(update.ContentUpdate.Select(p => p.Text).Where(t => t.Length > 0));

        Assert.That(pieces, Has.Count.GreaterThan(NewTokens / 2), "the prompt's greedy continuation is mostly whole characters");
        Assert.That(streamed, Is.EqualTo(pieces));
    }

    [Test]
    public async Task Stop_sequences_end_the_reply_before_them()
    {
        var full = _server.Greedy(Prompt, NewTokens);
        var stop = full.Substring(full.Length / 2, 2);
        var options = Greedy();
        options.StopSequences.Add(stop);
        ChatCompletion completion = await _server.Chat().CompleteChatAsync([new UserChatMessage(Prompt)], options);
        Assert.That(completion.Content.Single().Text, Is.EqualTo(full[..full.IndexOf(stop, StringComparison.Ordinal)]));
        Assert.That(completion.FinishReason, Is.EqualTo(ChatFinishReason.Stop));
    }

    /// <summary>
    /// Drafts decide which random numbers exact rejection sampling draws, so a seed repeats a sample where the drafts
    /// repeat: without drafting (the automatic budget and the shared history change drafts from run to run).
    /// </summary>
    [Test]
    public async Task A_seeded_sample_without_drafting_repeats_and_temperature_1_is_the_default()
    {
        var chat = _server.Chat();
        async Task<string> Sample(float? temperature)
        {
            var options = TestServer.WithRest(NewTokens, """{"drafting":"none"}""");
            options.Temperature = temperature;
#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK; the server honours it
            options.Seed = 7;
#pragma warning restore OPENAI001
            return (await chat.CompleteChatAsync([new UserChatMessage(Prompt)], options)).Value.Content[0].Text;
        }
        var first = await Sample(1f);
        Assert.That(await Sample(1f), Is.EqualTo(first), "the same seed gives the same sample");
        Assert.That(await Sample(null), Is.EqualTo(first), "no temperature means OpenAI's default, 1");
        Assert.That(first, Is.Not.EqualTo(_server.Greedy(Prompt, NewTokens)), "temperature 1 samples instead of taking the argmax");
    }

    [TestCase("none", "5")]
    [TestCase("promptlookup", "8")]
    [TestCase("rest", "\"auto\"")]
    [TestCase("hybrid", "16")]
    public async Task The_rest_extension_picks_drafting_per_request_and_the_reply_reports_it(string drafting, string budget)
    {
        var expected = _server.Greedy(Prompt, NewTokens);
        var options = TestServer.WithRest(NewTokens, $$"""{"drafting":"{{drafting}}","budget":{{budget}},"history":false}""");
        ChatCompletion completion = await _server.Chat().CompleteChatAsync([new UserChatMessage(Prompt)], options);
#pragma warning disable SCME0001 // JsonPatch: the SDK's way to read fields it does not model
        using var rest = JsonDocument.Parse(completion.Patch.GetJson("$.rest"u8));
#pragma warning restore SCME0001
        Assert.That(completion.Content.Single().Text, Is.EqualTo(expected), "drafting never changes greedy output");
        var r = rest.RootElement;
        Assert.That(r.GetProperty("drafting").GetString(), Is.EqualTo(drafting));
        Assert.That(r.GetProperty("budget").GetRawText(), Is.EqualTo(budget));
        Assert.That(r.GetProperty("history").GetBoolean(), Is.False);
        var steps = r.GetProperty("verification_steps").GetInt32();
        var perStep = r.GetProperty("tokens_per_step").GetDouble();
        if (drafting == "none")
        {
            Assert.That(steps, Is.EqualTo(NewTokens));
            Assert.That(r.GetProperty("draft_tokens_verified").GetInt64(), Is.Zero);
        }
        if (drafting is "rest" or "hybrid") Assert.That(perStep, Is.GreaterThan(2), "the datastore holds this continuation, so its drafts are accepted");
        Assert.That(r.GetProperty("queue_ms").GetDouble(), Is.GreaterThanOrEqualTo(0));
    }

    [Test]
    public async Task The_models_endpoint_lists_the_served_model()
    {
        var client = new OpenAI.OpenAIClient(new ApiKeyCredential("unused"), new OpenAI.OpenAIClientOptions { Endpoint = new Uri(_server.Server.Address, "v1") }).GetOpenAIModelClient();
        var models = (await client.GetModelsAsync()).Value;
        Assert.That(models.Select(m => m.Id), Is.EqualTo(new[] { _server.ModelId }));
        Assert.That((await client.GetModelAsync(_server.ModelId)).Value.OwnedBy, Is.EqualTo("rest-onnx"));
    }

    /// <summary>8 clients x 20 requests, half streamed, each prompt's answer checked against its own greedy text: nothing lost, nothing mixed up.</summary>
    [Test]
    [CancelAfter(120_000)]
    public async Task Eight_concurrent_clients_get_every_answer_and_only_their_own(CancellationToken cancellationToken)
    {
        const int Clients = 8, Requests = 20, Tokens = 12;
        var prompts = Enumerable.Range(0, Clients * 2).Select(i => $"def f{i}(x{i % 3}, y):\n    return x{i % 3} * {i} +").ToArray();
        var expected = prompts.Select(p => _server.Greedy(p, Tokens)).ToArray();
        Assert.That(expected.Distinct().Count(), Is.GreaterThan(prompts.Length / 2), "the prompts' answers differ, so a mix-up would show");
        var before = await _server.HealthAsync();

        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var answered = 0;
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            var chat = _server.Chat();
            for (var r = 0; r < Requests; r++)
            {
                var p = (c * 7 + r) % prompts.Length;
                string text;
                if ((c + r) % 2 == 0)
                {
                    text = (await chat.CompleteChatAsync([new UserChatMessage(prompts[p])], Greedy(Tokens), cancellationToken)).Value.Content[0].Text;
                }
                else
                {
                    var parts = new List<string>();
                    await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage(prompts[p])], Greedy(Tokens), cancellationToken))
                        parts.AddRange(update.ContentUpdate.Select(u => u.Text));
                    text = string.Concat(parts);
                }
                if (text != expected[p]) failures.Add($"client {c} request {r} prompt {p}: got '{text}', expected '{expected[p]}'");
                Interlocked.Increment(ref answered);
            }
        }, cancellationToken)));

        Assert.That(failures, Is.Empty);
        Assert.That(answered, Is.EqualTo(Clients * Requests));
        var after = await _server.WaitForHealthAsync(h => h.GetProperty("idle").GetInt32() == 2, "every generator to be idle");
        Assert.That(after.GetProperty("completed").GetInt64() - before.GetProperty("completed").GetInt64(), Is.EqualTo(Clients * Requests));
        Assert.That(after.GetProperty("rejected").GetInt64(), Is.EqualTo(before.GetProperty("rejected").GetInt64()));
        Assert.That(after.GetProperty("history_tokens").GetInt32(), Is.GreaterThan(0), "the history store is shared across requests");
    }

    [Test]
    public async Task Cancelling_a_stream_mid_way_gives_its_generator_back()
    {
        Assert.That(_server.GreedyTokenCount(LongPrompt, 900), Is.EqualTo(900), "no end of sequence before 900 tokens");
        var before = await _server.HealthAsync();
        using var cts = new CancellationTokenSource(TestServer.Timeout);
        var options = TestServer.SlowRequest();
        var chunks = 0;
        Assert.CatchAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in _server.Chat().CompleteChatStreamingAsync([new UserChatMessage(LongPrompt)], options, cts.Token))
            {
                if (update.ContentUpdate.Any(u => u.Text.Length > 0) && ++chunks == 2) await cts.CancelAsync();
            }
        });
        Assert.That(chunks, Is.EqualTo(2));
        var after = await _server.WaitForHealthAsync(
            h => h.GetProperty("cancelled").GetInt64() == before.GetProperty("cancelled").GetInt64() + 1 && h.GetProperty("idle").GetInt32() == 2,
            "the server to see the disconnect and free the generator");
        Assert.That(after.GetProperty("completed").GetInt64(), Is.EqualTo(before.GetProperty("completed").GetInt64()), "the 900-token run did not finish");
        ChatCompletion next = await _server.Chat().CompleteChatAsync([new UserChatMessage(Prompt)], Greedy());
        Assert.That(next.Content[0].Text, Is.EqualTo(_server.Greedy(Prompt, NewTokens)));
    }

    [Test]
    public async Task A_full_queue_is_answered_429_with_an_error_body_and_the_queued_request_still_runs()
    {
        await using var server = await TestServer.StartAsync(new ServerOptions { Generators = 1, QueueLimit = 1 });
        Assert.That(server.GreedyTokenCount(LongPrompt, 900), Is.EqualTo(900), "no end of sequence before 900 tokens");
        using var cts = new CancellationTokenSource(TestServer.Timeout);
        var firstChunk = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = Task.Run(async () =>
        {
            await foreach (var update in server.Chat().CompleteChatStreamingAsync([new UserChatMessage(LongPrompt)], TestServer.SlowRequest(), cts.Token))
                if (update.ContentUpdate.Count > 0) firstChunk.TrySetResult();
        });
        await firstChunk.Task.WaitAsync(TestServer.Timeout);
        var queued = server.Chat().CompleteChatAsync([new UserChatMessage(Prompt)], Greedy());
        await server.WaitForHealthAsync(h => h.GetProperty("queued").GetInt64() == 1, "the second request to queue");

        var (status, body) = await server.PostAsync($$"""{"model":"{{server.ModelId}}","messages":[{"role":"user","content":"x"}]}""");
        Assert.That(status, Is.EqualTo(429));
        Assert.That(body.GetProperty("error").GetProperty("type").GetString(), Is.EqualTo("rate_limit_error"));
        Assert.That(body.GetProperty("error").GetProperty("message").GetString(), Does.Contain("busy"));

        await cts.CancelAsync();
        Assert.CatchAsync<OperationCanceledException>(async () => await running);
        ChatCompletion completion = await queued.WaitAsync(TestServer.Timeout);
        Assert.That(completion.Content[0].Text, Is.EqualTo(server.Greedy(Prompt, NewTokens)));
        var health = await server.HealthAsync();
        Assert.That(health.GetProperty("rejected").GetInt64(), Is.EqualTo(1));
        Assert.That(health.GetProperty("cancelled").GetInt64(), Is.EqualTo(1), "the queued request ran because the first was cancelled, not because it finished");
        Assert.That(health.GetProperty("completed").GetInt64(), Is.EqualTo(1));
    }
}
