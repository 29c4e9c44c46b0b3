namespace Rest.Onnx;

/// <summary>How continuation counts are gathered for the draft tree.</summary>
public enum DraftMode
{
    /// <summary>
    /// The reference's behaviour: the first <see cref="DraftOptions.MaxOccurrences"/> occurrences of the
    /// match (in suffix-array order) feed a counting trie.
    /// </summary>
    Sampled,

    /// <summary>
    /// Counts over every occurrence: the match's suffix-array interval is sorted by continuation, so each
    /// node's count is the size of a sub-interval found by binary search. Same tree as <see cref="Sampled"/>
    /// when the match has at most <see cref="DraftOptions.MaxOccurrences"/> occurrences.
    /// </summary>
    Exact,
}
