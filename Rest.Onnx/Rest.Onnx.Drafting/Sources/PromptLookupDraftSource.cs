using Rest.Onnx.Drafting.Ranking;

namespace Rest.Onnx.Drafting.Sources;

/// <summary>
/// Prompt lookup: drafts from the context itself. The longest suffix of the context (from
/// <see cref="DraftOptions.MaxSuffixLength"/> down to <see cref="DraftOptions.MinSuffixLength"/>) that also
/// occurs earlier is found; the tokens after its most recent occurrences are counted in a trie and the
/// most frequent prefixes form the draft tree. No datastore is needed.
/// </summary>
internal sealed class PromptLookupDraftSource : IDraftSource
{
    private readonly DraftOptions _options;
    private readonly DraftTrieBuilder _trie = new();
    private int[] _matchLengths = new int[256];

    /// <summary>Creates a source with the given options.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public PromptLookupDraftSource(DraftOptions options)
    {
        options.Validate();
        _options = options;
    }

    /// <summary>The options this source was made with.</summary>
    public DraftOptions Options => _options;

    /// <inheritdoc/>
    public void Draft(ReadOnlySpan<int> context, DraftTree destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        destination.Clear();
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
        _trie.EmitTopNodes(Math.Min(_options.Budget, destination.Capacity), destination, _options.MinShare);
    }
}
