using Rest.Onnx.Drafting.Ranking;

namespace Rest.Onnx.Drafting.Sources;

/// <summary>
/// Prompt lookup: drafts from the context itself. The longest suffix of the context (from
/// <see cref="DraftOptions.MaxSuffixLength"/> down to <see cref="DraftOptions.MinSuffixLength"/>) that also
/// occurs earlier is found; the tokens after its most recent occurrences are counted in a trie and the
/// most frequent prefixes form the draft tree. No datastore is needed. Each node's odds come from its share of its
/// parent's continuations and the match length, calibrated by an <see cref="AcceptanceCalibration"/>.
/// </summary>
internal sealed class PromptLookupDraftSource : IDraftSource
{
    private readonly DraftOptions _options;
    private readonly DraftTrieBuilder _trie = new();
    private readonly AcceptanceCalibration _calibration;
    private int[] _matchLengths = new int[256];
    private DraftTree? _last;

    /// <summary>Creates a source with the given options and its own calibration.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public PromptLookupDraftSource(DraftOptions options) : this(options, null) { }

    /// <summary>Creates a source with the given options whose odds <paramref name="calibration"/> learns (null: its own).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public PromptLookupDraftSource(DraftOptions options, AcceptanceCalibration? calibration)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _calibration = calibration ?? new AcceptanceCalibration();
    }

    /// <summary>The calibration of this source's odds.</summary>
    public AcceptanceCalibration Calibration => _calibration;

    /// <summary>The options this source was made with.</summary>
    public DraftOptions Options => _options;

    /// <inheritdoc/>
    public void Draft(ReadOnlySpan<int> context, DraftTree destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        destination.Clear();
        _last = destination;
        var n = context.Length;
        if (n < 2) return;
        if (_matchLengths.Length < n) _matchLengths = new int[Math.Max(n, _matchLengths.Length * 2)];

        // For each earlier end position e, how many tokens ending at e equal the context's last tokens.
        var maxLength = Math.Min(_options.MaxSuffixLength, n - 1);
        var best = 0;
        for (var e = n - 2; e >= 0; e--)
        {
            var m = 0;
            var limit = Math.Min(maxLength, e + 1);
            while (m < limit && context[e - m] == context[n - 1 - m]) m++;
            _matchLengths[e] = m;
            if (m > best) best = m;
        }
        if (best < _options.MinSuffixLength) return;

        _trie.Clear();
        var occurrences = 0;
        for (var e = n - 2; e >= 0 && occurrences < _options.MaxOccurrences; e--)
        {
            if (_matchLengths[e] < best) continue;
            var length = Math.Min(_options.ContinuationLength, n - 1 - e);
            _trie.Add(context.Slice(e + 1, length));
            occurrences++;
        }
        _trie.EmitTopNodes(Math.Min(_options.CandidateBudget, destination.Capacity), destination, _options.MinShare);
        _calibration.Score(destination, best);
    }

    /// <inheritdoc/>
    public void Observe(ReadOnlySpan<int> modelTokens)
    {
        if (_last is { } tree) _calibration.Observe(tree, modelTokens);
        _last = null;
    }
}
