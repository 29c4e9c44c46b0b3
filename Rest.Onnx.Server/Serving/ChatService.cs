using Microsoft.Extensions.AI;
using Rest.Onnx.Chat;
using Rest.Onnx.DemoModel;
using Rest.Onnx.DemoModel.Assets;
using Rest.Onnx.Manifest;
using Rest.Onnx.Server.Api;

namespace Rest.Onnx.Server.Serving;

/// <summary>What one request runs with, once validated against the model.</summary>
internal sealed record PreparedRequest(IReadOnlyList<ChatMessage> Messages, ChatOptions Options, int PromptTokens, string Drafting, int Budget, bool History);

/// <summary>
/// The served model: one <see cref="RestModel"/> (its history store shared by every request), the datastore, the
/// drafting strategies (one instance each, so generators keep their draft sources), the chat template and the
/// generator pool; and the request counters <c>/health</c> reports.
/// </summary>
internal sealed class ChatService : IDisposable
{
    private static readonly string[] BuiltInDrafting = ["none", "promptlookup", "rest", "hybrid"];
    private readonly Dictionary<string, DraftingStrategy> _strategies;
    private long _requests, _completed, _cancelled, _rejected, _failed;

    private ChatService(ServerOptions options, RestModel model, RestDatastore? datastore, string modelId)
    {
        Options = options;
        Model = model;
        Datastore = datastore;
        ModelId = modelId;
        _strategies = new(StringComparer.Ordinal) { ["none"] = DraftingStrategy.None, ["promptlookup"] = DraftingStrategy.PromptLookup };
        if (datastore is not null)
        {
            _strategies["rest"] = DraftingStrategy.Rest(datastore);
            _strategies["hybrid"] = DraftingStrategy.Hybrid(datastore);
        }
        foreach (var (name, strategy) in options.CustomDrafting ?? new Dictionary<string, DraftingStrategy>())
        {
            if (BuiltInDrafting.Contains(name)) throw new ArgumentException($"Custom drafting '{name}' would hide the built-in one.", nameof(options));
            _strategies[name] = strategy;
        }
        DefaultDrafting = options.Drafting ?? (datastore is null ? "promptlookup" : "hybrid");
        if (!_strategies.ContainsKey(DefaultDrafting))
            throw new ArgumentException($"Drafting '{DefaultDrafting}' needs a datastore (--datastore).");

        var config = TokenizerChatConfig.Load(model.Folder);
        var folderTemplate = config.ParseTemplate();
        TemplateName = folderTemplate is null ? "plain (messages' contents concatenated)" : "the model folder's chat_template";
        var clientOptions = new RestChatClientOptions
        {
            Template = folderTemplate ?? PlainChatTemplate.For(model, config),
            ModelId = modelId,
            Generation = new GenerationOptions { MaxNewTokens = options.MaxTokens },
        };
        var clients = new List<RestChatClient>();
        try
        {
            for (var i = 0; i < options.Generators; i++) clients.Add(new RestChatClient(model, clientOptions));
        }
        catch
        {
            foreach (var c in clients) c.Dispose();
            throw;
        }
        Pool = new GeneratorPool(clients, options.QueueLimit);
    }

    public ServerOptions Options { get; }

    public RestModel Model { get; }

    public RestDatastore? Datastore { get; }

    public string ModelId { get; }

    public string DefaultDrafting { get; }

    public string TemplateName { get; }

    public GeneratorPool Pool { get; }

    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;

    public long Requests => Interlocked.Read(ref _requests);

    public long Completed => Interlocked.Read(ref _completed);

    public long Cancelled => Interlocked.Read(ref _cancelled);

    public long Rejected => Interlocked.Read(ref _rejected);

    public long Failed => Interlocked.Read(ref _failed);

    public void CountRequest() => Interlocked.Increment(ref _requests);

    public void CountCompleted() => Interlocked.Increment(ref _completed);

    public void CountCancelled() => Interlocked.Increment(ref _cancelled);

    public void CountRejected() => Interlocked.Increment(ref _rejected);

    public void CountFailed() => Interlocked.Increment(ref _failed);

    /// <summary>
    /// Loads the model (exporting a checkpoint into the cache first; the demo model by default), opens the datastore
    /// (the demo datastore with the demo model, built once into the cache) and creates the pool.
    /// </summary>
    public static ChatService Load(ServerOptions options, TextWriter log)
    {
        var cache = options.Cache ?? DemoModelPaths.DefaultCache;
        var demo = options.Model is null;
        var folder = DemoAssets.EnsureExported(options.Model ?? DemoModelPaths.Checkpoint, cache, GraphVariant.Gqa, log)!;
        var model = RestModel.Load(folder, new ModelOptions { MaxSequenceLength = options.Context, IntraOpThreads = options.Threads, Log = log });
        RestDatastore? datastore = null;
        try
        {
            var path = options.Datastore;
            if (path is null && demo && model.Tokenizer is { } tokenizer)
            {
                try
                {
                    path = DemoAssets.EnsureDemoDatastore(cache, tokenizer, [], log);
                }
                catch (DirectoryNotFoundException e)
                {
                    log.WriteLine($"No demo datastore ({e.Message}); serving without one (prompt lookup only).");
                }
            }
            datastore = path is null ? null : model.OpenDatastore(path);
            var id = options.ModelId ?? (demo ? "demo-model" : Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))));
            return new ChatService(options, model, datastore, id);
        }
        catch
        {
            datastore?.Dispose();
            model.Dispose();
            throw;
        }
    }

    /// <summary>Checks the request against the model and maps it to what <see cref="RestChatClient"/> runs.</summary>
    /// <exception cref="ApiError">Unknown model, drafting without a datastore, a template error, or a prompt or limit beyond the context.</exception>
    public PreparedRequest Prepare(ChatRequest request)
    {
        if (request.Model is { } name && name != ModelId)
            throw new ApiError(StatusCodes.Status404NotFound, $"The model '{name}' does not exist; this server serves '{ModelId}'.", "invalid_request_error", "model", "model_not_found");
        var drafting = request.Rest.Drafting ?? DefaultDrafting;
        if (!_strategies.TryGetValue(drafting, out var strategy))
        {
            throw ApiError.Invalid(BuiltInDrafting.Contains(drafting)
                ? $"'rest.drafting' \"{drafting}\" needs a datastore; this server has none (start it with --datastore)."
                : $"'rest.drafting' must be one of {string.Join(", ", _strategies.Keys)}, got \"{drafting}\".", "rest.drafting");
        }
        var budget = request.Rest.Budget ?? Options.Budget;
        var history = (request.Rest.History ?? Options.History) && strategy.Drafts;

        int promptTokens;
        try
        {
            var client = Pool.Any;   // rendering and encoding touch no generator
            promptTokens = client.EncodePrompt(client.RenderPrompt(request.Messages)).Length;
        }
        catch (ChatTemplateException e)
        {
            throw ApiError.Invalid($"The chat template rejects these messages: {e.Message}", "messages");
        }
        catch (NotSupportedException e)
        {
            throw ApiError.Invalid(e.Message, "messages");
        }

        var context = Model.MaxSequenceLength;
        var room = context - promptTokens;
        if (room < 1)
            throw ApiError.Invalid($"This model's context is {context} tokens; the messages take {promptTokens}, which leaves no room for a reply.", "messages", "context_length_exceeded");
        if (request.MaxTokens is { } asked && asked > room)
            throw ApiError.Invalid($"This model's context is {context} tokens; the messages take {promptTokens}, so at most {room} new tokens fit, but {asked} were asked for.",
                "max_tokens", "context_length_exceeded");
        var maxTokens = request.MaxTokens ?? Math.Min(Options.MaxTokens, room);

        var generation = new GenerationOptions
        {
            MaxNewTokens = maxTokens,
            Drafting = strategy,
            Draft = new DraftOptions { Budget = budget },
            DraftFromHistory = history,
        };
        var chatOptions = new ChatOptions
        {
            MaxOutputTokens = maxTokens,
            Temperature = request.Temperature ?? 1f,   // OpenAI's default: sampling at temperature 1
            TopP = request.TopP,
            TopK = request.TopK,
            Seed = request.Seed,
            StopSequences = request.Stop.Count > 0 ? [.. request.Stop] : null,
            AdditionalProperties = new() { [RestChatClient.GenerationKey] = generation },
        };
        return new PreparedRequest(request.Messages, chatOptions, promptTokens, drafting, budget, history);
    }

    public void Dispose()
    {
        Pool.Dispose();
        Datastore?.Dispose();
        Model.Dispose();
    }
}
