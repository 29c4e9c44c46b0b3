namespace Rest.Onnx;

/// <summary>How <see cref="RestModel.Load(string, ModelOptions)"/> opens a model. Configure with <c>with</c> expressions.</summary>
public readonly record struct ModelOptions
{
    /// <summary>Creates options with the defaults (CPU, model-derived length, ONNX Runtime's thread count).</summary>
    public ModelOptions() { }

    /// <summary>Execution provider; default <see cref="ExecutionProvider.Cpu"/>.</summary>
    public ExecutionProvider ExecutionProvider { get; init; } = ExecutionProvider.Cpu;

    /// <summary>
    /// Most tokens (prompt plus generated) a generator holds; its KV cache is allocated once for this length.
    /// 0 means the smaller of the model's <c>maxPositions</c> and <see cref="DefaultMaxSequenceLength"/>.
    /// </summary>
    public int MaxSequenceLength { get; init; }

    /// <summary>Threads for ONNX Runtime's intra-op pool; 0 lets ONNX Runtime choose.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Where warnings go (for example the <see cref="ExecutionProviderKind.Auto"/> fallback); null means standard error.</summary>
    public TextWriter? Log { get; init; }

    /// <summary>
    /// Most tokens <see cref="RestModel.History"/> holds (the store of recent outputs that runs with
    /// <see cref="GenerationOptions.DraftFromHistory"/> draft from; about 12 bytes a token, allocated on first use); 0 means the default.
    /// </summary>
    public int HistoryTokens { get; init; } = DefaultHistoryTokens;

    /// <summary>Default <see cref="HistoryTokens"/>: 262,144 tokens (3.5 MiB).</summary>
    public const int DefaultHistoryTokens = 1 << 18;

    /// <summary>Length used when <see cref="MaxSequenceLength"/> is 0 and the model allows more.</summary>
    public const int DefaultMaxSequenceLength = 2048;
}
