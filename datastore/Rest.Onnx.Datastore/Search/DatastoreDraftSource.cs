using Rest.Onnx.Datastore.Reading;

namespace Rest.Onnx.Datastore.Search;

/// <summary>
/// REST drafting: the longest context suffix (16 down to 2 tokens by default) found in the datastores,
/// the continuations after its occurrences counted in a trie, the most frequent nodes as the tree.
/// With several datastores the one with the longest match drafts (the first on ties). Each node's odds come
/// from its share of its parent's continuations and the match length, calibrated by an <see cref="AcceptanceCalibration"/>.
/// </summary>
internal sealed class DatastoreDraftSource : IDraftSource
{
    private readonly DatastoreSearcher[] _searchers;
    private readonly AcceptanceCalibration _calibration;
    private DraftTree? _last;

    /// <summary>Creates a source over <paramref name="datastores"/> with <paramref name="options"/> and its own calibration.</summary>
    /// <exception cref="ArgumentException">No datastore was given, or one is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public DatastoreDraftSource(IReadOnlyList<DatastoreReader> datastores, DraftOptions options) : this(datastores, options, null) { }

    /// <summary>Creates a source whose odds <paramref name="calibration"/> learns (null: its own).</summary>
    /// <exception cref="ArgumentException">No datastore was given, or one is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public DatastoreDraftSource(IReadOnlyList<DatastoreReader> datastores, DraftOptions options, AcceptanceCalibration? calibration)
    {
        _calibration = calibration ?? new AcceptanceCalibration();
        ArgumentNullException.ThrowIfNull(datastores);
        ArgumentNullException.ThrowIfNull(options);
        if (datastores.Count == 0) throw new ArgumentException("At least one datastore is needed for REST drafting.", nameof(datastores));
        options.Validate();
        Options = options;
        Datastores = datastores;
        var searchOptions = options;
        _searchers = new DatastoreSearcher[datastores.Count];
        for (var i = 0; i < _searchers.Length; i++)
        {
            var store = datastores[i] ?? throw new ArgumentException($"Datastore {i} is null.", nameof(datastores));
            _searchers[i] = new DatastoreSearcher(store, searchOptions);
        }
    }

    /// <summary>The options this source was made with.</summary>
    public DraftOptions Options { get; }

    /// <summary>The calibration of this source's odds.</summary>
    public AcceptanceCalibration Calibration => _calibration;

    /// <summary>The datastores searched.</summary>
    public IReadOnlyList<DatastoreReader> Datastores { get; }

    /// <summary>Length of the suffix matched by the last <see cref="Draft"/> (0 when none).</summary>
    public int LastMatchLength { get; private set; }

    /// <inheritdoc/>
    public void Draft(ReadOnlySpan<int> context, DraftTree destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        DraftCore(context, destination);
        _last = destination;
        _calibration.Score(destination, LastMatchLength);
    }

    /// <inheritdoc/>
    public void Observe(ReadOnlySpan<int> modelTokens)
    {
        if (_last is { } tree) _calibration.Observe(tree, modelTokens);
        _last = null;
    }

    private void DraftCore(ReadOnlySpan<int> context, DraftTree destination)
    {
        if (_searchers.Length == 1)
        {
            LastMatchLength = _searchers[0].BuildDraft(context, destination);
            return;
        }
        var best = -1;
        var bestLength = 0;
        for (var i = 0; i < _searchers.Length; i++)
        {
            var length = _searchers[i].FindLongestMatch(context);
            if (length > bestLength)
            {
                bestLength = length;
                best = i;
            }
        }
        LastMatchLength = bestLength;
        if (best < 0) destination.Clear();
        else _searchers[best].BuildDraft(context, destination);
    }
}
