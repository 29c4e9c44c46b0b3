namespace Rest.Onnx;

/// <summary>
/// A run driven step by step, in the spirit of onnxruntime-genai's <c>Generator</c>: append tokens (the prompt
/// first), run one verification step at a time, read the tokens each step accepted. Start with
/// <see cref="Generator.Start"/>; dispose to end the run (the generator is then free for the next one).
/// <see cref="Generator.Generate(ReadOnlySpan{int}, GenerationOptions, CancellationToken)"/> and the streaming
/// methods are this loop.
/// </summary>
/// <example>
/// <code>
/// using var run = generator.Start(options);
/// run.AppendTokens(prompt);
/// while (!run.IsDone) Console.Write(string.Join(' ', run.Step().ToArray()));
/// </code>
/// </example>
public sealed class GenerationRun : IDisposable
{
    private readonly Generator _generator;
    private readonly Generator.RunState _state;
    private bool _disposed;

    internal GenerationRun(Generator generator, Generator.RunState state)
    {
        _generator = generator;
        _state = state;
    }

    /// <summary>True once the run has ended (stop token, stop string, token limit or the model's length).</summary>
    public bool IsDone => _state.Done;

    /// <summary>Why the run ended, or null while it goes on.</summary>
    public StopReason? StopReason => _state.Done ? _state.StopReason : null;

    /// <summary>Counts and timings so far.</summary>
    public GenerationStatistics Statistics => _state.Statistics;

    /// <summary>Every token in the sequence: appended ones and generated ones. Valid until the next call on this run.</summary>
    public ReadOnlySpan<int> Sequence => _generator.Context(_state);

    /// <summary>Tokens after the first <see cref="AppendTokens"/> call (what <see cref="GenerationResult.Tokens"/> holds). Valid until the next call on this run.</summary>
    public ReadOnlySpan<int> NewTokens => _generator.Context(_state)[_state.PromptLength..];

    /// <summary>Text of <see cref="NewTokens"/> (cut before a stop string), or null when the model has no tokenizer.</summary>
    public string? Text => _state.Text?.Full;

    /// <summary>
    /// Adds tokens to the sequence and runs them through the model (prefill). The first call gives the prompt;
    /// later calls (between steps) force tokens into the sequence. Allocates nothing per call beyond ONNX Runtime's own.
    /// </summary>
    /// <exception cref="ArgumentException">No tokens, an id outside the vocabulary, or no room left below <see cref="RestModel.MaxSequenceLength"/>.</exception>
    /// <exception cref="InvalidOperationException">The run has ended.</exception>
    /// <exception cref="OperationCanceledException">The run's token was cancelled.</exception>
    public void AppendTokens(ReadOnlySpan<int> tokens)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _generator.Append(_state, tokens);
    }

    /// <summary>
    /// Runs one verification step (draft, verify, accept) and returns the tokens it added (accepted drafts plus the
    /// model's own token; fewer at a stop). Empty once the run is done. The span is valid until the next call on this run.
    /// </summary>
    /// <exception cref="InvalidOperationException">No tokens were appended yet.</exception>
    /// <exception cref="OperationCanceledException">The run's token was cancelled; the generator stays usable after <see cref="Dispose"/>.</exception>
    public ReadOnlySpan<int> Step()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var start = _generator.Context(_state).Length;
        _generator.Step(_state);
        return _generator.Context(_state)[start..];
    }

    /// <summary>Ends the run; the generator can start another.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _generator.End(_state);
    }
}
