using Rest.Onnx.Datastore.Building;

namespace Rest.Onnx.Tests.Runtime;

/// <summary>Builds small datastores from token-id documents for the runtime tests.</summary>
internal static class TestDatastores
{
    public static string Build(IEnumerable<int[]> documents, int vocabularySize = 512, string fingerprint = "")
    {
        var path = Path.Combine(Path.GetTempPath(), $"rest-runtime-{Guid.NewGuid():N}.restds");
        using var writer = DatastoreWriter.Create(path, new DatastoreBuildOptions
        {
            VocabularySize = vocabularySize, Separator = 2, TokenizerFingerprint = fingerprint,
        });
        foreach (var document in documents) writer.AddDocument(document);
        writer.Complete();
        return path;
    }

    public static IEnumerable<int[]> RandomDocuments(int seed, int count, int length)
    {
        var random = new Random(seed);
        for (var d = 0; d < count; d++) yield return [.. Enumerable.Range(0, length).Select(_ => random.Next(3, 512))];
    }
}
