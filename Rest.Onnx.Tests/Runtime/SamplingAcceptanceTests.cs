using Rest.Onnx.Acceptance;

namespace Rest.Onnx.Tests.Runtime;

public class SamplingAcceptanceTests
{
    private static readonly double[] Root = [0.1, 0.3, 0.25, 0.2, 0.15];
    private static readonly double[] AfterOne = [0.2, 0.1, 0.4, 0.1, 0.2];
    private static readonly double[] AfterThree = [0.5, 0.1, 0.1, 0.1, 0.2];

    // The first two emitted tokens of one step follow the target distributions exactly: token 1 ~ Root,
    // and token 2 ~ AfterOne / AfterThree when token 1 was the draft 1 / 3. Chi-square, false alarm 1e-3, fixed seed.
    [TestCase(0)]
    [TestCase(3)]
    public void EmittedTokensFollowTheTargetDistribution(int topK)
    {
        var tree = new DraftTree(8);
        tree.Add(1, -1);      // row 1
        tree.Add(3, -1);      // row 2
        tree.Add(2, 0);       // row 3
        tree.Add(0, 0);       // row 4
        var uniform = new double[] { 0.2, 0.2, 0.2, 0.2, 0.2 };
        var logits = new FakeLogits([
            FakeLogits.FromProbabilities(Root), FakeLogits.FromProbabilities(AfterOne), FakeLogits.FromProbabilities(AfterThree),
            FakeLogits.FromProbabilities(uniform), FakeLogits.FromProbabilities(uniform)]);
        var options = new SamplingOptions { TopK = topK };
        var acceptance = new SamplingAcceptance(new TokenSampler(options, 5), 5);
        var path = new AcceptedPath(5);
        var random = new Random(12345);

        const int trials = 20000;
        var observed = new long[5 + 25];
        for (var t = 0; t < trials; t++)
        {
            acceptance.Accept(tree, logits, random, path);
            var tokens = path.Tokens;
            var first = tokens[0];
            if (first is 1 or 3) observed[5 + (first == 1 ? 0 : 5) + tokens[1]]++;
            else observed[first]++;
        }

        var root = Truncate(Root, topK);
        var afterOne = Truncate(AfterOne, topK);
        var afterThree = Truncate(AfterThree, topK);
        var expected = new double[30];
        for (var x = 0; x < 5; x++) if (x is not (1 or 3)) expected[x] = root[x];
        for (var y = 0; y < 5; y++)
        {
            expected[5 + y] = root[1] * afterOne[y];
            expected[10 + y] = root[3] * afterThree[y];
        }
        var (statistic, df) = ChiSquare.Test(observed, expected, trials);
        Assert.That(statistic, Is.LessThan(ChiSquare.Critical001(df)), $"observed [{string.Join(", ", observed)}]");
    }

    [Test]
    public void DraftsOutsideTheTopKAreNeverAccepted()
    {
        var tree = new DraftTree(2);
        tree.Add(0, -1); // token 0 is the least likely and falls outside top-2
        var logits = new FakeLogits([FakeLogits.FromProbabilities(0.1, 0.5, 0.4), FakeLogits.FromProbabilities(0.3, 0.3, 0.4)]);
        var acceptance = new SamplingAcceptance(new TokenSampler(new SamplingOptions { TopK = 2 }, 3), 3);
        var path = new AcceptedPath(2);
        var random = new Random(1);
        for (var t = 0; t < 500; t++)
        {
            acceptance.Accept(tree, logits, random, path);
            Assert.That(path.Tokens[0], Is.Not.EqualTo(0));
            Assert.That(path.KeptRows.ToArray(), Is.EqualTo(new[] { 0 }));
        }
    }

    private static double[] Truncate(double[] p, int topK)
    {
        if (topK == 0) return p;
        var keep = p.Select((v, i) => (v, i)).OrderByDescending(x => x.v).ThenBy(x => x.i).Take(topK).Select(x => x.i).ToHashSet();
        var sum = keep.Sum(i => p[i]);
        return [.. p.Select((v, i) => keep.Contains(i) ? v / sum : 0)];
    }
}
