using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Datastore.Reading;

namespace Rest.Onnx.Bench.Datastore;

/// <summary>
/// Cuts a smaller store from a larger one at a document boundary: its first documents, in order, until the new
/// store holds at least the asked tokens (separators included), the rule <c>CorpusOptions.MaxTokens</c> applies
/// to a build. Prefixes of one store are nested: each holds every document of the smaller ones.
/// </summary>
internal static class StorePrefix
{
    /// <summary>Writes the prefix of <paramref name="source"/> holding at least <paramref name="tokens"/> tokens (all of it when it holds fewer).</summary>
    public static DatastoreBuildSummary Build(DatastoreReader source, long tokens, string output, IProgress<DatastoreBuildProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
        using var writer = DatastoreWriter.Create(output, new DatastoreBuildOptions
        {
            VocabularySize = source.VocabularySize,
            Separator = source.Separator,
            TokenizerFingerprint = source.TokenizerFingerprint,
            Description = $"the first documents of {Path.GetFileName(source.Path)} holding at least {tokens:N0} tokens",
        }, progress);
        var document = new List<int>();
        var buffer = new int[1 << 20];
        foreach (var shard in source.Shards)
        {
            for (var at = 0; at < shard.TokenCount && writer.TokenCount < tokens;)
            {
                var n = shard.CopyTokens(at, buffer);
                for (var i = 0; i < n && writer.TokenCount < tokens; i++)
                {
                    if (buffer[i] != source.Separator) { document.Add(buffer[i]); continue; }
                    writer.AddDocument(document.ToArray());
                    document.Clear();
                }
                at += n;
            }
            // A shard ends its last document.
            if (document.Count > 0 && writer.TokenCount < tokens) writer.AddDocument(document.ToArray());
            document.Clear();
        }
        return writer.Complete();
    }
}
