using Rest.Onnx.Datastore.Reading;
using Rest.Onnx.Datastore.Search;
using Rest.Onnx.Drafting.Sources;

namespace Rest.Onnx;

/// <summary>
/// Where draft tokens come from: the one way a run chooses its drafting. Each strategy builds its own
/// <see cref="IDraftSource"/> from the run's <see cref="DraftOptions"/>; a generator keeps the source it built
/// for as long as the strategy instance and the draft options stay the same, so reuse one strategy across runs.
/// </summary>
public abstract class DraftingStrategy
{
    private protected DraftingStrategy() { }

    /// <summary>No drafts: plain autoregressive decoding (the baseline), one token per model run.</summary>
    public static DraftingStrategy None { get; } = new NoneStrategy();

    /// <summary>n-grams of the prompt and the text generated so far; no datastore.</summary>
    public static DraftingStrategy PromptLookup { get; } = new PromptLookupStrategy();

    /// <summary>Retrieval from datastores (REST); with several, the one with the longest match drafts.</summary>
    /// <exception cref="ArgumentException">No datastore was given, or one is null.</exception>
    public static DraftingStrategy Rest(params IReadOnlyList<RestDatastore> datastores) => new RestStrategy(Check(datastores));

    /// <summary>Prompt lookup's and the datastores' drafts merged by their odds into one tree within the budget (a path both offer combines their evidence).</summary>
    /// <exception cref="ArgumentException">No datastore was given, or one is null.</exception>
    public static DraftingStrategy Hybrid(params IReadOnlyList<RestDatastore> datastores) => new HybridStrategy(Check(datastores));

    /// <summary>A caller-supplied source (used as given; the draft options' budget still caps its trees).</summary>
    public static DraftingStrategy Custom(IDraftSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new CustomStrategy(source);
    }

    /// <summary>Short name for reports: <c>none</c>, <c>rest</c>, <c>promptlookup</c>, <c>hybrid</c> or <c>custom</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Whether steps can draft at all (false only for <see cref="None"/>).</summary>
    public bool Drafts => this is not NoneStrategy;

    /// <summary>Builds the source a generator runs with these draft options.</summary>
    internal abstract IDraftSource CreateSource(DraftOptions options, RestModel model);

    /// <inheritdoc/>
    public override string ToString() => Name;

    private static RestDatastore[] Check(IReadOnlyList<RestDatastore> datastores)
    {
        ArgumentNullException.ThrowIfNull(datastores);
        if (datastores.Count == 0) throw new ArgumentException("REST drafting needs at least one datastore (open them with RestModel.OpenDatastore).", nameof(datastores));
        var copy = new RestDatastore[datastores.Count];
        for (var i = 0; i < copy.Length; i++) copy[i] = datastores[i] ?? throw new ArgumentException($"Datastore {i} is null.", nameof(datastores));
        return copy;
    }

    private static DatastoreReader[] Readers(RestDatastore[] stores)
    {
        var readers = new DatastoreReader[stores.Length];
        for (var i = 0; i < readers.Length; i++) readers[i] = stores[i].Reader;
        return readers;
    }

    private sealed class NoneStrategy : DraftingStrategy
    {
        public override string Name => "none";
        internal override IDraftSource CreateSource(DraftOptions options, RestModel model) => NoDraftSource.Instance;
    }

    private sealed class PromptLookupStrategy : DraftingStrategy
    {
        public override string Name => "promptlookup";
        internal override IDraftSource CreateSource(DraftOptions options, RestModel model) => new PromptLookupDraftSource(options, model.Calibration("promptlookup"));
    }

    private sealed class RestStrategy(RestDatastore[] stores) : DraftingStrategy
    {
        public override string Name => "rest";
        internal override IDraftSource CreateSource(DraftOptions options, RestModel model) => new DatastoreDraftSource(Readers(stores), options, model.Calibration("datastore"));
    }

    private sealed class HybridStrategy(RestDatastore[] stores) : DraftingStrategy
    {
        public override string Name => "hybrid";
        private readonly RestStrategy _rest = new(stores);

        // Prompt lookup's and REST's own sources, merged by odds the model's "merged:hybrid" calibration learns; a part
        // that does not pay for its drafting time pauses.
        internal override IDraftSource CreateSource(DraftOptions options, RestModel model)
            => new MergedDraftSource(options.CandidateBudget, model.Calibration("merged:hybrid"), pace: true,
                PromptLookup.CreateSource(options, model), _rest.CreateSource(options, model));
    }

    private sealed class CustomStrategy(IDraftSource source) : DraftingStrategy
    {
        public override string Name => "custom";
        internal override IDraftSource CreateSource(DraftOptions options, RestModel model) => source;
    }
}
