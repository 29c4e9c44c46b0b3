using System.Runtime.CompilerServices;
using Rest.Onnx.Acceptance;
using Rest.Onnx.Execution;
using Rest.Onnx.Manifest;

namespace Rest.Onnx;

/// <summary>
/// Generates from a prompt with one engine for every drafting strategy: prefill the prompt, then per
/// step draft a tree (empty for the baseline), verify root and tree in one forward pass, accept
/// (greedy or exact sampling) and keep only the accepted path's KV entries. Owns a KV cache allocated
/// once for <see cref="RestModel.MaxSequenceLength"/>. One run at a time; reusable after a run ends,
/// fails or is cancelled. Create with <see cref="RestModel.CreateGenerator"/>.
/// </summary>
public sealed partial class Generator : IDisposable
{
    /// <summary>Prompt tokens per prefill run.</summary>
    internal const int PrefillChunk = 128;

    private readonly RestModel _model;
    private readonly ModelManifest _config;
    private readonly KvCache _cache;
    private readonly int[] _context;
    private ForwardPass _pass;
    private int[] _allRows;
    private DraftTree _tree;
    private DraftTree _truncated;
    private int[] _remap = [];
    private AcceptedPath _path;
    private DraftingStrategy? _sourceStrategy;   // the strategy and options _source was built from
    private DraftOptions? _sourceOptions;
    private TokenHistory? _sourceHistory;
    private readonly Drafting.Ranking.RateOptimalSelector _selector = new();
    private IDraftSource _source = Drafting.Sources.NoDraftSource.Instance;
    private int _length;
    private int _busy;
    private bool _disposed;

    internal Generator(RestModel model)
    {
        _model = model;
        _config = model.Manifest;
        var maxLength = model.MaxSequenceLength;
        _cache = KvCache.For(model.Backend, _config, maxLength);
        _context = new int[maxLength];
        var rows = Math.Min(maxLength, Math.Max(PrefillChunk, DraftOptions.Default.CandidateBudget + 1));
        try
        {
            _pass = new ForwardPass(model.Session, _config, model.Backend, _cache, rows);
        }
        catch
        {
            _cache.Dispose();
            throw;
        }
        _allRows = Iota(rows);
        _tree = new DraftTree(rows - 1);
        _truncated = new DraftTree(rows - 1);
        _path = new AcceptedPath(rows);
    }

    /// <summary>The model this generator runs.</summary>
    public RestModel Model => _model;

    /// <summary>
    /// Bytes of this generator's KV cache, allocated once at creation for <see cref="RestModel.MaxSequenceLength"/> positions:
    /// 2 (key, value) x layers x kvHeads x MaxSequenceLength x headSize x element size, twice over for opset23 graphs (past and
    /// present in turn), once for gqa graphs (one buffer shared by past and present). Generation never allocates more.
    /// </summary>
    public long KvCacheBytes => _cache.TotalBytes;

    /// <summary>
    /// Starts a run driven step by step: append the prompt with <see cref="GenerationRun.AppendTokens"/>, then call
    /// <see cref="GenerationRun.Step"/> until <see cref="GenerationRun.IsDone"/>. Dispose the run to end it.
    /// </summary>
    /// <param name="options">What to generate.</param>
    /// <param name="cancellationToken">Stops the run between steps (and interrupts a running forward pass).</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="InvalidOperationException">Another run of this generator is in progress, or stop strings were given to a model without tokenizer.</exception>
    /// <exception cref="ObjectDisposedException">The generator or its model is disposed.</exception>
    public GenerationRun Start(GenerationOptions options, CancellationToken cancellationToken = default)
        => new(this, Begin(options, cancellationToken));

    /// <summary>Generates from prompt token ids and returns everything at the end.</summary>
    /// <param name="promptTokens">Prompt ids, used as given (add BOS yourself if the model expects it).</param>
    /// <param name="options">What to generate.</param>
    /// <param name="cancellationToken">Stops the run between steps (and interrupts a running forward pass).</param>
    /// <exception cref="ArgumentException">The prompt is empty, has an id outside the vocabulary, or leaves no room below <see cref="RestModel.MaxSequenceLength"/>; or an option is invalid.</exception>
    /// <exception cref="InvalidOperationException">Another run of this generator is in progress, or stop strings were given to a model without tokenizer.</exception>
    /// <exception cref="ObjectDisposedException">The generator or its model is disposed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled; the generator stays usable.</exception>
    public GenerationResult Generate(ReadOnlySpan<int> promptTokens, GenerationOptions options, CancellationToken cancellationToken = default)
    {
        var run = Begin(options, cancellationToken);
        try
        {
            Append(run, promptTokens);
            while (Step(run)) { }
            return new GenerationResult(Context(run)[run.PromptLength..].ToArray(), run.Text?.Full, run.StopReason, run.Statistics);
        }
        finally
        {
            End(run);
        }
    }

    /// <summary>Encodes <paramref name="prompt"/> with the model's tokenizer (BOS first as <see cref="GenerationOptions.AddBos"/> or the model says) and generates.</summary>
    /// <inheritdoc cref="Generate(ReadOnlySpan{int}, GenerationOptions, CancellationToken)"/>
    /// <exception cref="InvalidOperationException">The model has no tokenizer.</exception>
    public GenerationResult Generate(string prompt, GenerationOptions options, CancellationToken cancellationToken = default)
        => Generate(Encode(prompt, options), options, cancellationToken);

    /// <summary>
    /// Streams a run: one chunk per verification step with its tokens and new text. Each step runs after a
    /// <see cref="Task.Yield"/>, so the caller's thread is free between steps, and the token is checked before every
    /// step. The last chunk's <see cref="GenerationChunk.Statistics"/> is final.
    /// </summary>
    /// <inheritdoc cref="Generate(ReadOnlySpan{int}, GenerationOptions, CancellationToken)"/>
    public async IAsyncEnumerable<GenerationChunk> GenerateStreamingAsync(
        ReadOnlyMemory<int> promptTokens, GenerationOptions options, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var run = Begin(options, cancellationToken);
        try
        {
            await Task.Yield();
            Append(run, promptTokens.Span);
            while (true)
            {
                await Task.Yield();
                var start = _length;
                var more = Step(run);
                var tokens = new ReadOnlyMemory<int>(_context, start, _length - start);
                var text = run.Text?.TakeNew(final: !more) ?? string.Empty;
                if (tokens.Length > 0 || text.Length > 0 || !more) yield return new GenerationChunk(tokens, text, run.Statistics);
                if (!more) yield break;
            }
        }
        finally
        {
            End(run);
        }
    }

    /// <summary>Encodes <paramref name="prompt"/> with the model's tokenizer and streams the run.</summary>
    /// <inheritdoc cref="GenerateStreamingAsync(ReadOnlyMemory{int}, GenerationOptions, CancellationToken)"/>
    /// <exception cref="InvalidOperationException">The model has no tokenizer.</exception>
    public IAsyncEnumerable<GenerationChunk> GenerateStreamingAsync(string prompt, GenerationOptions options, CancellationToken cancellationToken = default)
        => GenerateStreamingAsync(Encode(prompt, options), options, cancellationToken);

    /// <summary>Releases the KV cache and the binding. Throws if a run is in progress.</summary>
    /// <exception cref="InvalidOperationException">A run is in progress.</exception>
    public void Dispose()
    {
        if (_disposed) return;
        if (Volatile.Read(ref _busy) != 0) throw new InvalidOperationException("Cannot dispose a generator while it runs; cancel the run first.");
        _disposed = true;
        _pass.Dispose();
        _cache.Dispose();
    }

    private int[] Encode(string prompt, GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(options);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var tokenizer = _model.Tokenizer ?? throw new InvalidOperationException($"Model '{_model.Folder}' has no tokenizer; pass token ids instead of text.");
        var ids = new List<int>();
        if ((options.AddBos ?? _model.AddsBosToText) && _config.BosTokenId is { } bos) ids.Add(bos);
        tokenizer.Encode(prompt.AsSpan(), ids);
        return [.. ids];
    }

    private static int[] Iota(int count)
    {
        var rows = new int[count];
        for (var i = 0; i < count; i++) rows[i] = i;
        return rows;
    }

    /// <summary>Logits rows of the last forward pass, for acceptance.</summary>
    private readonly struct PassLogits(ForwardPass pass) : ILogitsRows
    {
        public ReadOnlySpan<float> Row(int row) => pass.LogitsRow(row);
    }
}
