using Rest.Onnx.Datastore.Building;
using Rest.Onnx.Datastore.Reading;

namespace Rest.Onnx.Tests.Datastore;

/// <summary>A temporary folder holding datastores built from in-memory documents; deleted on dispose.</summary>
internal sealed class TempStore : IDisposable
{
    public TempStore() => Folder = Directory.CreateTempSubdirectory("rest-ds-").FullName;

    public string Folder { get; }

    public string PathOf(string name) => Path.Combine(Folder, name);

    public string Build(IEnumerable<int[]> documents, DatastoreBuildOptions options, string name = "store.rds")
    {
        var path = PathOf(name);
        using var writer = DatastoreWriter.Create(path, options);
        foreach (var d in documents) writer.AddDocument(d);
        writer.Complete();
        return path;
    }

    public void Dispose() => Directory.Delete(Folder, true);

    /// <summary>Every stored token, shard by shard.</summary>
    public static int[] AllTokens(DatastoreReader reader)
    {
        var all = new List<int>();
        foreach (var shard in reader.Shards)
        {
            var t = new int[shard.TokenCount];
            shard.CopyTokens(0, t);
            all.AddRange(t);
        }
        return [.. all];
    }
}

/// <summary>Corpus generators with fixed seeds: repetitive enough that long matches exist.</summary>
internal static class Corpora
{
    /// <summary>Documents drawn from a small Markov chain over a small alphabet, so prefixes repeat often.</summary>
    public static List<int[]> Markov(int seed, int documents, int minLength, int maxLength, int alphabet)
    {
        var rng = new Random(seed);
        var result = new List<int[]>();
        for (var d = 0; d < documents; d++)
        {
            var doc = new int[rng.Next(minLength, maxLength + 1)];
            var previous = rng.Next(alphabet);
            for (var i = 0; i < doc.Length; i++)
            {
                // Mostly a deterministic successor, sometimes a random jump.
                previous = rng.Next(4) == 0 ? rng.Next(alphabet) : (previous * 7 + 3) % alphabet;
                doc[i] = previous;
            }
            result.Add(doc);
        }
        return result;
    }

    /// <summary>The shards' texts as the writer lays them out (documents joined with the separator, cut at the shard limit).</summary>
    public static List<List<int>> ExpectedShards(IEnumerable<int[]> documents, int separator, long maxShard)
    {
        var shards = new List<List<int>> { new() };
        foreach (var doc in documents)
        {
            var rest = doc.AsSpan();
            while (!rest.IsEmpty)
            {
                var piece = rest[..(int)Math.Min(rest.Length, maxShard)];
                var current = shards[^1];
                var sep = current.Count > 0 && separator >= 0;
                if (current.Count + (sep ? 1 : 0) + piece.Length > maxShard)
                {
                    current = new List<int>();
                    shards.Add(current);
                    sep = false;
                }
                if (sep) current.Add(separator);
                current.AddRange(piece.ToArray());
                rest = rest[piece.Length..];
            }
        }
        return shards;
    }
}
