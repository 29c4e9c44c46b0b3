using Rest.Onnx.Datastore.SuffixArrays;

namespace Rest.Onnx.Tests.Datastore;

public class SuffixArrayBuilderTests
{
    private static void AssertMatchesOracle(int[] text, int alphabet)
    {
        var actual = SuffixArrayBuilder.Build(text, alphabet);
        var expected = NaiveSuffixArray.Build(text);
        Assert.That(actual, Is.EqualTo(expected));
        if (alphabet <= 65536)
        {
            // The 16-bit text path must give the same array.
            var narrow = new int[text.Length];
            SuffixArrayBuilder.Build(text.Select(t => (ushort)t).ToArray(), alphabet, narrow);
            Assert.That(narrow, Is.EqualTo(expected), "16-bit text");
        }
    }

    private static int[] Random(int seed, int n, int alphabet)
    {
        var rng = new Random(seed);
        var t = new int[n];
        for (var i = 0; i < n; i++) t[i] = rng.Next(alphabet);
        return t;
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void TrivialSizes(int n)
    {
        for (var seed = 0; seed < 20; seed++) AssertMatchesOracle(Random(seed, n, 3), 3);
    }

    [Test]
    public void RandomSmallInputsOverSmallAlphabets()
    {
        for (var seed = 0; seed < 400; seed++)
        {
            var rng = new Random(seed);
            var alphabet = rng.Next(1, 6);
            AssertMatchesOracle(Random(seed, rng.Next(0, 60), alphabet), alphabet);
        }
    }

    [TestCase(1, 1000)]
    [TestCase(2, 20_000)]
    [TestCase(3, 50_000)]
    public void RandomMediumInputs(int seed, int n) => AssertMatchesOracle(Random(seed, n, 32000), 32000);

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(1000)]
    [TestCase(30_000)]
    public void AllEqual(int n) => AssertMatchesOracle(Enumerable.Repeat(7, n).ToArray(), 8);

    [TestCase(2, 3000)]
    [TestCase(3, 3001)]
    [TestCase(7, 5000)]
    public void Periodic(int period, int n)
    {
        var pattern = Random(period, period, 5);
        var text = Enumerable.Range(0, n).Select(i => pattern[i % period]).ToArray();
        AssertMatchesOracle(text, 5);
    }

    [Test]
    public void PeriodicWithNoise()
    {
        // Long repeats with rare mutations: deep recursion with many equal LMS substrings.
        var rng = new Random(5);
        var text = Enumerable.Range(0, 8000).Select(i => i % 13 == 0 && rng.Next(10) == 0 ? 3 : (i % 13) % 3).ToArray();
        AssertMatchesOracle(text, 4);
    }

    [Test]
    public void FibonacciWord()
    {
        // A classic worst case for suffix sorting: every level of recursion is again Fibonacci-like.
        var a = new List<int> { 0 };
        var b = new List<int> { 0, 1 };
        while (b.Count < 10_000) (a, b) = (b, [.. b, .. a]);
        AssertMatchesOracle([.. b], 2);
    }

    [TestCase(11, 10_000)]
    [TestCase(12, 40_000)]
    public void BinaryAlphabet(int seed, int n) => AssertMatchesOracle(Random(seed, n, 2), 2);

    [Test]
    public void LargeAlphabet200k()
    {
        var text = Random(21, 30_000, 200_000);
        text[0] = 199_999;
        AssertMatchesOracle(text, 200_000);
    }

    [Test]
    public void DescendingAndAscendingRuns()
    {
        AssertMatchesOracle(Enumerable.Range(0, 2000).Reverse().ToArray(), 2000);
        AssertMatchesOracle(Enumerable.Range(0, 2000).ToArray(), 2000);
    }

    [Test]
    public void RejectsTokensOutsideAlphabet()
    {
        var e = Assert.Throws<ArgumentException>(() => SuffixArrayBuilder.Build([1, 2, 5, 0], 5));
        Assert.That(e!.Message, Does.Contain("Token 5 at position 2"));
        Assert.Throws<ArgumentException>(() => SuffixArrayBuilder.Build([1, -1], 5));
        var e16 = Assert.Throws<ArgumentException>(() => SuffixArrayBuilder.Build(new ushort[] { 1, 9 }, 5, new int[2]));
        Assert.That(e16!.Message, Does.Contain("Token 9 at position 1"));
    }

    [Test]
    public void RejectsWrongOutputLengthAndAlphabet()
    {
        Assert.Throws<ArgumentException>(() => SuffixArrayBuilder.Build([1, 2], 5, new int[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => SuffixArrayBuilder.Build([0], 0));
    }
}
