namespace Rest.Onnx;

/// <summary>Where draft tokens come from.</summary>
public enum DraftingStrategy
{
    /// <summary>No drafts: plain autoregressive decoding (the baseline), one token per model run.</summary>
    None,

    /// <summary>Retrieval from a datastore (REST).</summary>
    Rest,

    /// <summary>n-grams of the prompt and the text generated so far; no datastore.</summary>
    PromptLookup,

    /// <summary>
    /// Prompt lookup's drafts first, then the datastore's, merged into one tree within the budget
    /// (<see cref="MergedDraftSource"/>); needs datastores like <see cref="Rest"/>.
    /// </summary>
    Hybrid,
}
