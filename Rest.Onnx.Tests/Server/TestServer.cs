using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using Rest.Onnx.Export;
using Rest.Onnx.Manifest;
using Rest.Onnx.Server;
using Rest.Onnx.Tests.Runtime;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Tests.Server;

/// <summary>
/// A chat server started in process on 127.0.0.1 with a port the system picks, over a tiny random model with the demo
/// model's tokenizer (1,024 positions: long enough for a stream to be cancelled mid-way), with the clients the tests
/// talk to it with: the official OpenAI SDK (no retries, so nothing is hidden) and a raw HttpClient for bodies no SDK sends.
/// </summary>
internal sealed class TestServer : IAsyncDisposable
{
    /// <summary>Every wait of the server tests ends by this.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private TestServer(ChatServer server)
    {
        Server = server;
        Http = new HttpClient { BaseAddress = server.Address, Timeout = Timeout };
    }

    public ChatServer Server { get; }

    public HttpClient Http { get; }

    public RestModel Model => Server.Service.Model;

    public string ModelId => Server.Service.ModelId;

    /// <summary>The tiny model's folder (exported once per test run), gqa as the server's demo export is.</summary>
    public static string ModelFolder()
    {
        var tokenizer = TinyModels.DemoTokenizerPath();
        return TinyModels.Folder(TinyModels.Default with
        {
            VocabSize = TextTokenizer.Load(tokenizer).VocabularySize, TokenizerPath = tokenizer, MaxPositions = 1024,
        }, new ExportOptions { Variant = GraphVariant.Gqa });
    }

    /// <summary>
    /// <c>rest.drafting</c> name of a strategy whose every step first waits <see cref="SlowStep"/> and drafts nothing:
    /// the tiny model decodes hundreds of tokens in milliseconds, this one runs long enough for a client to leave mid-way.
    /// </summary>
    public const string Slow = "slow";

    public static readonly TimeSpan SlowStep = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// A greedy request of <paramref name="maxTokens"/> at <see cref="SlowStep"/> a token (900: 18 s unless cancelled; the
    /// SDK's HTTP handler drains an abandoned response for up to 2 s before it closes the connection). A fixed budget, because
    /// the automatic one stops asking a source whose drafts never pay.
    /// </summary>
    public static ChatCompletionOptions SlowRequest(int maxTokens = 900) => WithRest(maxTokens, $$"""{"drafting":"{{Slow}}","budget":4,"history":false}""");

    public static async Task<TestServer> StartAsync(ServerOptions? options = null, string? datastore = null)
    {
        var server = await ChatServer.StartAsync((options ?? new ServerOptions()) with
        {
            Model = ModelFolder(),
            Datastore = datastore,
            Host = "127.0.0.1",
            Port = 0,
            Threads = 1,
            CustomDrafting = new Dictionary<string, DraftingStrategy> { [Slow] = DraftingStrategy.Custom(new PausingDraftSource(SlowStep)) },
        }, TextWriter.Null);
        return new TestServer(server);
    }

    /// <summary>Greedy options with the request's <c>rest</c> extension set to <paramref name="restJson"/> (the SDK's way to send a field it does not model).</summary>
    public static ChatCompletionOptions WithRest(int maxTokens, string restJson)
    {
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = maxTokens };
#pragma warning disable SCME0001 // JsonPatch is marked experimental in System.ClientModel
        options.Patch.Set("$.rest"u8, BinaryData.FromString(restJson));
#pragma warning restore SCME0001
        return options;
    }

    public ChatClient Chat() => new(ModelId, new ApiKeyCredential("unused"), new OpenAIClientOptions
    {
        Endpoint = new Uri(Server.Address, "v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        NetworkTimeout = Timeout,
    });

    /// <summary>Greedy text of the generator itself on <paramref name="prompt"/> (what the plain template makes of one user message).</summary>
    public string Greedy(string prompt, int maxNewTokens) => GreedyResult(prompt, maxNewTokens).Text!;

    /// <summary>How many tokens the generator's greedy run makes before its end of sequence or the limit.</summary>
    public int GreedyTokenCount(string prompt, int maxNewTokens) => GreedyResult(prompt, maxNewTokens).Tokens.Count;

    private GenerationResult GreedyResult(string prompt, int maxNewTokens)
    {
        using var generator = Model.CreateGenerator();
        return generator.Generate(prompt, new GenerationOptions { MaxNewTokens = maxNewTokens });
    }

    public int PromptTokens(string prompt) => Model.Tokenizer!.Encode(prompt).Length + (Model.AddsBosToText ? 1 : 0);

    /// <summary>
    /// Posts a raw body. With <paramref name="expectContinue"/> the client waits for the server's go-ahead before the body, as
    /// curl does for large bodies, so a refused body gets its answer instead of a broken pipe.
    /// </summary>
    public async Task<(int Status, JsonElement Body)> PostAsync(byte[] body, bool expectContinue = false, CancellationToken cancellationToken = default)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = content };
        request.Headers.ExpectContinue = expectContinue;
        using var response = await Http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    public Task<(int Status, JsonElement Body)> PostAsync(string json, CancellationToken cancellationToken = default) => PostAsync(Encoding.UTF8.GetBytes(json), cancellationToken: cancellationToken);

    public async Task<JsonElement> HealthAsync()
    {
        using var response = await Http.GetAsync("health");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>Polls <c>/health</c> until <paramref name="done"/> holds (or fails the test after <see cref="Timeout"/>).</summary>
    public async Task<JsonElement> WaitForHealthAsync(Func<JsonElement, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var health = await HealthAsync();
            if (done(health)) return health;
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting for {what}; /health: {health}");
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }

    /// <summary>Drafts nothing after a pause: a stateless stand-in for a model whose steps take time.</summary>
    private sealed class PausingDraftSource(TimeSpan pause) : IDraftSource
    {
        public void Draft(ReadOnlySpan<int> context, DraftTree destination)
        {
            destination.Clear();
            Thread.Sleep(pause);
        }
    }
}
