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
}
