using Rest.Onnx.Execution;

namespace Rest.Onnx.Tests.Runtime;

/// <summary>
/// The batch builder against a naive definition by positions: a row at position p keeps key column j (a cached slot,
/// which holds position j, or a tree row) when j is cached or an ancestor-or-self row, and p - position(j) &lt; window.
/// </summary>
public class VerificationBatchTests
{
    [Test]
    public void TreeMaskMatchesTheNaiveDefinitionForRandomTreesAndWindows()
    {
        var random = new Random(3);
        for (var trial = 0; trial < 300; trial++)
        {
            var tree = new DraftTree(24);
            var nodes = random.Next(0, 24);
            for (var i = 0; i < nodes; i++) tree.Add(random.Next(3, 100), random.Next(-1, i));
            var past = random.Next(0, 12);
            int? window = random.Next(4) == 0 ? null : random.Next(1, 10);
            int rows = tree.Count + 1, cols = past + rows;
            var ids = new long[rows];
            var positions = new long[rows];
            var mask = new float[rows * cols];
            VerificationBatch.Fill(tree, 7, past, ids, positions, mask, window);

            for (var r = 0; r < rows; r++)
            {
                var p = past + (r == 0 ? 0 : tree.Depths[r - 1]);
                Assert.That(positions[r], Is.EqualTo(p));
                var ancestors = new HashSet<int> { 0 };
                for (var node = r - 1; node >= 0; node = tree.Parents[node]) ancestors.Add(node + 1);
                for (var j = 0; j < cols; j++)
                {
                    bool visible;
                    long q;
                    if (j < past) { visible = true; q = j; }
                    else { visible = ancestors.Contains(j - past); q = j - past == 0 ? past : past + tree.Depths[j - past - 1]; }
                    if (window is int w && p - q >= w) visible = false;
                    Assert.That(mask[r * cols + j], Is.EqualTo(visible ? 0f : VerificationBatch.MaskedValue),
                        $"trial {trial}: row {r} (position {p}) column {j}, past {past}, window {window}");
                }
            }
        }
    }

    [TestCase(0, 6, null)]
    [TestCase(0, 6, 1)]
    [TestCase(0, 6, 3)]
    [TestCase(5, 4, 3)]
    [TestCase(5, 4, 20)]
    public void CausalMaskKeepsThePrefixAndEarlierRowsInsideTheWindow(int past, int seq, int? window)
    {
        int cols = past + seq;
        var ids = new long[seq];
        var positions = new long[seq];
        var mask = new float[seq * cols];
        VerificationBatch.FillCausal(Enumerable.Range(10, seq).ToArray(), past, ids, positions, mask, window);
        for (var r = 0; r < seq; r++)
        {
            Assert.That((ids[r], positions[r]), Is.EqualTo((10L + r, (long)(past + r))));
            for (var j = 0; j < cols; j++)
            {
                var visible = j <= past + r && (window is null || past + r - j < window);
                Assert.That(mask[r * cols + j], Is.EqualTo(visible ? 0f : VerificationBatch.MaskedValue), $"row {r} column {j}");
            }
        }
    }

    [Test]
    public void NonPositiveWindowIsRefused()
    {
        var tree = new DraftTree(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => VerificationBatch.Fill(tree, 1, 0, new long[1], new long[1], new float[1], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => VerificationBatch.FillCausal([1], 0, new long[1], new long[1], new float[1], -2));
    }
}
