
namespace Rest.Onnx.Tests.Datastore;

/// <summary>Oracle for search and drafting: scans the shard texts directly.</summary>
internal sealed class NaiveDrafter
{
    private readonly List<int[]> _shards;
    private readonly List<int[]> _suffixArrays;
    private readonly int _separator;

    public NaiveDrafter(List<List<int>> shards, int separator)
    {
        _shards = shards.Select(s => s.ToArray()).ToList();
        _suffixArrays = _shards.Select(NaiveSuffixArray.Build).ToList();
        _separator = separator;
    }

    public static bool StartsWith(int[] text, int p, ReadOnlySpan<int> pattern)
        => p + pattern.Length <= text.Length && text.AsSpan(p, pattern.Length).SequenceEqual(pattern);

    /// <summary>The SA interval of the pattern in one shard, found by scanning every suffix.</summary>
    public (int Start, int End) Range(int shard, int[] pattern)
    {
        var text = _shards[shard];
        var sa = _suffixArrays[shard];
        var hits = Enumerable.Range(0, sa.Length).Where(i => StartsWith(text, sa[i], pattern)).ToList();
        if (hits.Count == 0)
        {
            // Insertion point: number of suffixes smaller than the pattern.
            var before = sa.Count(p => text.AsSpan(p, Math.Min(pattern.Length, text.Length - p)).SequenceCompareTo(pattern) < 0);
            return (before, before);
        }
        Assert.That(hits[^1] - hits[0] + 1, Is.EqualTo(hits.Count), "matches must be contiguous in the SA");
        return (hits[0], hits[^1] + 1);
    }

    public int LongestMatch(int[] context, int max, int min)
    {
        for (var l = Math.Min(max, context.Length); l >= min; l--)
        {
            var pattern = context[^l..];
            if (_shards.Any(t => Enumerable.Range(0, t.Length).Any(p => StartsWith(t, p, pattern)))) return l;
        }
        return 0;
    }

    /// <summary>Counts of every prefix of the continuations of the first k occurrences (SA order, shard by shard).</summary>
    public Dictionary<string, long> PrefixCounts(int[] match, int k, int length)
    {
        var counts = new Dictionary<string, long>();
        var remaining = k;
        for (var s = 0; s < _shards.Count && remaining > 0; s++)
        {
            var (start, end) = Range(s, match);
            for (var i = start; i < end && remaining > 0; i++, remaining--)
            {
                var text = _shards[s];
                var p = _suffixArrays[s][i] + match.Length;
                var path = new List<int>();
                for (var d = 0; d < length && p + d < text.Length && text[p + d] != _separator; d++)
                {
                    path.Add(text[p + d]);
                    var key = Key(path);
                    counts[key] = counts.GetValueOrDefault(key) + 1;
                }
            }
        }
        return counts;
    }

    public static string Key(IEnumerable<int> path) => string.Join(",", path);

    public static List<string> Paths(DraftTree tree)
    {
        var paths = new List<string>();
        for (var i = 0; i < tree.Count; i++)
        {
            var path = new List<int>();
            for (var n = i; n >= 0; n = tree.Parents[n]) path.Insert(0, tree.Tokens[n]);
            paths.Add(Key(path));
        }
        return paths;
    }

    /// <summary>
    /// Checks that the tree is a valid top-nodes selection of <paramref name="counts"/>: breadth-first,
    /// ancestor-closed, within budget, every node real, and no left-out node more frequent than a kept one.
    /// </summary>
    public static void AssertTopTree(DraftTree tree, Dictionary<string, long> counts, int budget)
    {
        Assert.That(tree.Count, Is.EqualTo(Math.Min(budget, counts.Count)), "tree size");
        for (var i = 0; i < tree.Count; i++)
        {
            var parent = tree.Parents[i];
            Assert.That(parent, Is.LessThan(i), "parent precedes child");
            Assert.That(tree.Depths[i], Is.EqualTo(parent < 0 ? 1 : tree.Depths[parent] + 1), "depth");
            if (i > 0) Assert.That(tree.Depths[i], Is.GreaterThanOrEqualTo(tree.Depths[i - 1]), "breadth-first order");
        }
        var paths = Paths(tree);
        Assert.That(paths, Is.Unique, "no duplicate node");
        foreach (var p in paths) Assert.That(counts.ContainsKey(p), $"node {p} occurs in the continuations");
        if (tree.Count == 0) return;
        var selected = paths.ToHashSet();
        var minKept = paths.Min(p => counts[p]);
        foreach (var (path, count) in counts)
        {
            if (selected.Contains(path)) continue;
            var cut = path.LastIndexOf(',');
            var parent = cut < 0 ? "" : path[..cut];
            if (parent.Length == 0 || selected.Contains(parent))
                Assert.That(count, Is.LessThanOrEqualTo(minKept), $"left-out node {path} ({count}) beats a kept node ({minKept})");
        }
    }
}
