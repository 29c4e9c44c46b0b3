using Rest.Onnx.Drafting.Ranking;

namespace Rest.Onnx.Drafting.Sources;

/// <summary>
/// Drafts from a <see cref="TokenHistory"/> of earlier outputs: the longest context suffix (from
/// <see cref="DraftOptions.MaxSuffixLength"/> down to 2 tokens) held by the store, the continuations of its newest
/// occurrences counted in a trie, the most frequent nodes as the tree, each scored from its share of its parent's
/// continuations and the match length through an <see cref="AcceptanceCalibration"/>. The store is shared; this
/// source is one generator's view of it (not thread-safe itself). No allocation per call once warm.
/// </summary>
internal sealed class HistoryDraftSource : IDraftSource
{
    private readonly TokenHistory _history;
    private readonly DraftOptions _options;
    private readonly AcceptanceCalibration _calibration;
    private readonly DraftTrieBuilder _trie = new();
    private readonly long[] _ends = new long[TokenHistory.MaxCandidates];
    private readonly int[] _lengths = new int[TokenHistory.MaxCandidates];
    private readonly int[] _scratch;
    private DraftTree? _last;

    /// <summary>Creates a source over <paramref name="history"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public HistoryDraftSource(TokenHistory history, DraftOptions options, AcceptanceCalibration? calibration = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _history = history;
        _options = options;
        _calibration = calibration ?? new AcceptanceCalibration();
        _scratch = new int[options.ContinuationLength];
    }

    /// <summary>Length of the suffix matched by the last <see cref="Draft"/> (0 when none).</summary>
    public int LastMatchLength { get; private set; }

    /// <inheritdoc/>
    public void Draft(ReadOnlySpan<int> context, DraftTree destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        destination.Clear();
        _last = destination;
        _trie.Clear();
        LastMatchLength = _history.AddContinuations(context, _options.MinSuffixLength, _options.MaxSuffixLength, _options.MaxOccurrences,
            _options.ContinuationLength, _trie, _ends, _lengths, _scratch);
        if (LastMatchLength == 0) return;
        _trie.EmitTopNodes(Math.Min(_options.CandidateBudget, destination.Capacity), destination, _options.MinShare);
        _calibration.Score(destination, LastMatchLength);
    }

    /// <inheritdoc/>
    public void Observe(ReadOnlySpan<int> modelTokens)
    {
        if (_last is { } tree) _calibration.Observe(tree, modelTokens);
        _last = null;
    }
}
