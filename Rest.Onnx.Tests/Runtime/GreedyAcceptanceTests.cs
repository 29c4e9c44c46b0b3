using Rest.Onnx.Acceptance;

namespace Rest.Onnx.Tests.Runtime;

public class GreedyAcceptanceTests
{
    [Test]
    public void FollowsTheArgmaxPathAndAddsTheModelsToken()
    {
        // root -> 5 (row 1) -> 8 (row 3); root -> 7 (row 2) -> 9 (row 4)
        var tree = new DraftTree(8);
        tree.Add(5, -1);
        tree.Add(7, -1);
        tree.Add(8, 0);
        tree.Add(9, 1);
        var logits = new FakeLogits([
            FakeLogits.Peak(12, 7), FakeLogits.Peak(12, 8), FakeLogits.Peak(12, 9), FakeLogits.Peak(12, 1), FakeLogits.Peak(12, 3)]);
        var path = new AcceptedPath(5);

        GreedyAcceptance.Accept(tree, logits, path);

        Assert.That(path.Tokens.ToArray(), Is.EqualTo(new[] { 7, 9, 3 }));
        Assert.That(path.KeptRows.ToArray(), Is.EqualTo(new[] { 0, 2, 4 }));
    }

    [Test]
    public void EmptyTreeYieldsTheArgmaxOfTheRoot()
    {
        var path = new AcceptedPath(1);
        GreedyAcceptance.Accept(new DraftTree(0), new FakeLogits([FakeLogits.Peak(10, 4)]), path);
        Assert.That(path.Tokens.ToArray(), Is.EqualTo(new[] { 4 }));
        Assert.That(path.KeptRows.ToArray(), Is.EqualTo(new[] { 0 }));
    }

    [Test]
    public void RejectedFirstLevelKeepsOnlyTheRoot()
    {
        var tree = new DraftTree(4);
        tree.Add(1, -1);
        tree.Add(2, 0);
        var path = new AcceptedPath(3);
        GreedyAcceptance.Accept(tree, new FakeLogits([FakeLogits.Peak(10, 6), FakeLogits.Peak(10, 2), FakeLogits.Peak(10, 0)]), path);
        Assert.That(path.Tokens.ToArray(), Is.EqualTo(new[] { 6 }));
        Assert.That(path.KeptRows.ToArray(), Is.EqualTo(new[] { 0 }));
    }

    [Test]
    public void ArgMaxTakesTheLowestIndexOnTies()
        => Assert.That(GreedyAcceptance.ArgMax([1f, 3f, 2f, 3f]), Is.EqualTo(1));
}

public class ArgMaxTests
{
    [Test]
    public void ArgMaxEqualsAScalarScanOnRandomRows()
    {
        var random = new Random(8);
        for (var trial = 0; trial < 500; trial++)
        {
            var row = new float[random.Next(1, 200)];
            for (var i = 0; i < row.Length; i++) row[i] = random.Next(-20, 20) / 4f; // many ties
            var expected = 0;
            for (var i = 1; i < row.Length; i++) if (row[i] > row[expected]) expected = i;
            Assert.That(GreedyAcceptance.ArgMax(row), Is.EqualTo(expected), $"trial {trial}");
        }
    }
}
