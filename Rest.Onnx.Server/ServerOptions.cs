namespace Rest.Onnx.Server;

/// <summary>How the chat server is set up (the command line's options; tests and the bench build it directly). Immutable.</summary>
internal sealed record ServerOptions
{
    /// <summary>An exported model folder or a Hugging Face checkpoint (exported into <see cref="Cache"/>); null: the demo model.</summary>
    public string? Model { get; init; }

    /// <summary>A datastore for REST and hybrid drafting; null: the demo datastore with the demo model, none otherwise.</summary>
    public string? Datastore { get; init; }

    /// <summary>Where a checkpoint's export and the demo datastore are cached; null: <c>.cache/demo</c>.</summary>
    public string? Cache { get; init; }

    /// <summary>Address to listen on; loopback by default.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 lets the system pick a free one.</summary>
    public int Port { get; init; } = 8000;

    /// <summary>Generators in the pool: requests that run at once (each holds a KV cache).</summary>
    public int Generators { get; init; } = 2;

    /// <summary>Requests that may wait for a generator; one more is answered 429.</summary>
    public int QueueLimit { get; init; } = 16;

    /// <summary>Default drafting (none, promptlookup, rest, hybrid, or a name of <see cref="CustomDrafting"/>); null: hybrid with a datastore, prompt lookup without.</summary>
    public string? Drafting { get; init; }

    /// <summary>
    /// Strategies served by name beside the built-in four (a host's own <see cref="DraftingStrategy.Custom"/> source);
    /// the tests add a slow one that stands in for a large model, so a run lasts long enough to be cancelled.
    /// </summary>
    public IReadOnlyDictionary<string, DraftingStrategy>? CustomDrafting { get; init; }

    /// <summary>Default draft budget; <see cref="DraftOptions.AutoBudget"/> chooses per step.</summary>
    public int Budget { get; init; } = DraftOptions.AutoBudget;

    /// <summary>Draft from the model's store of past outputs, shared by every request (a request may turn it off).</summary>
    public bool History { get; init; } = true;

    /// <summary>Most new tokens of a request that names no limit (less where the context leaves less).</summary>
    public int MaxTokens { get; init; } = 512;

    /// <summary>Tokens a generator holds (prompt plus output); 0: the model's default.</summary>
    public int Context { get; init; }

    /// <summary>ONNX Runtime intra-op threads; 0: its default.</summary>
    public int Threads { get; init; }

    /// <summary>Model id in responses and <c>/v1/models</c>; null: the model folder's name (<c>demo-model</c> for the demo).</summary>
    public string? ModelId { get; init; }

    /// <summary>Largest request body in bytes.</summary>
    public long MaxRequestBytes { get; init; } = 4 << 20;
}
