using Rest.Onnx.Execution;
using Rest.Onnx.Export;
using Rest.Onnx.Export.Llama;
using Rest.Onnx.Export.Safetensors;
using Rest.Onnx.Export.Tiny;
using Rest.Onnx.Tests.Export.Reference;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Tests.Export;

/// <summary>
/// The exported fp32 graph (ORT CPU) against the managed float64 reference, on several tiny configs (Llama, Mistral
/// with a sliding window shorter than the sequences, Qwen2 with q/k/v biases). The masks come from the runtime's batch
/// builder (<see cref="VerificationBatch"/>, given the manifest's sliding window), so the reference checks it too.
/// Tolerance: max |onnx - reference| &lt;= 1e-4 x max(1, max |reference logit|) for every row.
/// </summary>
[TestFixtureSource(nameof(Configs))]
public class ExportEquivalenceTests(string name, TinyLlamaOptions options, GraphVariant variant)
{
    private const double Tolerance = 1e-4;

    /// <summary>Every config in both runtime graph variants: standard-op Attention and GroupQueryAttention.</summary>
    public static IEnumerable<TestFixtureData> Configs()
    {
        foreach (var config in BaseConfigs())
            foreach (var variant in (GraphVariant[])[GraphVariant.Opset23, GraphVariant.Gqa])
                yield return new TestFixtureData([.. config.Arguments, variant]);
    }

    private static IEnumerable<TestFixtureData> BaseConfigs()
    {
        yield return new TestFixtureData("mha-untied",
            new TinyLlamaOptions { Layers = 2, HiddenSize = 64, Heads = 4, KvHeads = 4, IntermediateSize = 96, VocabSize = 128, Seed = 11 });
        yield return new TestFixtureData("gqa-tied",
            new TinyLlamaOptions { Layers = 2, HiddenSize = 64, Heads = 8, KvHeads = 2, IntermediateSize = 128, VocabSize = 160, TiedEmbeddings = true, Seed = 12 });
        // Llama 3 style: head_dim != hidden/heads, large theta with llama3 scaling, BF16 weights.
        yield return new TestFixtureData("gqa-llama3-bf16",
            new TinyLlamaOptions
            {
                Layers = 3, HiddenSize = 48, Heads = 4, KvHeads = 1, HeadSize = 16, IntermediateSize = 80, VocabSize = 100, Seed = 13,
                RopeTheta = 500000, RopeScaling = new RopeScaling("llama3", 8, 1, 4, 32), MaxPositions = 128, DType = SafetensorsDType.BF16,
            });
        // Mistral: window 3 is shorter than the prompt (8), the decoded sequence (9) and the tree's depth (4).
        yield return new TestFixtureData("mistral-window3",
            new TinyLlamaOptions
            {
                Architecture = LlamaConfig.Mistral, SlidingWindow = 3, Layers = 2, HiddenSize = 64, Heads = 4, KvHeads = 2,
                IntermediateSize = 96, VocabSize = 128, Seed = 14,
            });
        // Qwen2: q/k/v biases, tied embeddings, Qwen's large rotary base.
        yield return new TestFixtureData("qwen2-bias-tied",
            new TinyLlamaOptions
            {
                Architecture = LlamaConfig.Qwen2, Layers = 2, HiddenSize = 64, Heads = 4, KvHeads = 2, IntermediateSize = 96,
                VocabSize = 140, TiedEmbeddings = true, RopeTheta = 1000000, RmsNormEps = 1e-6, Seed = 15,
            });
        // Qwen2 with use_sliding_window on every layer (max_window_layers 0): biases and a window together, fp16 weights.
        yield return new TestFixtureData("qwen2-bias-window5",
            new TinyLlamaOptions
            {
                Architecture = LlamaConfig.Qwen2, SlidingWindow = 5, Layers = 2, HiddenSize = 48, Heads = 6, KvHeads = 2, HeadSize = 8,
                IntermediateSize = 80, VocabSize = 120, Seed = 16, DType = SafetensorsDType.F16,
            });
    }

    private TempFolder _dir = null!;
    private OnnxDecoder _onnx = null!;
    private LlamaReference _reference = null!;
    private int? _window;

    /// <summary>The runtime's prefill mask for <paramref name="seq"/> rows after <paramref name="past"/> cached ones.</summary>
    private float[,] Causal(int past, int seq)
    {
        var ids = new long[seq];
        var positions = new long[seq];
        var flat = new float[seq * (past + seq)];
        VerificationBatch.FillCausal(new int[seq], past, ids, positions, flat, _window);
        Assert.That(positions, Is.EqualTo(Enumerable.Range(past, seq).Select(p => (long)p)));
        return To2D(flat, seq, past + seq);
    }

    private static float[,] To2D(float[] flat, int rows, int cols)
    {
        var m = new float[rows, cols];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) m[i, j] = flat[i * cols + j];
        return m;
    }

    [OneTimeSetUp]
    public void Export()
    {
        _dir = new TempFolder("rest-export-" + name + "-" + variant + "-");
        TinyLlama.Write(_dir.File("hf"), options);
        var result = LlamaExporter.Export(_dir.File("hf"), _dir.File("onnx"), new ExportOptions { Variant = variant });
        Assert.That(result.Manifest.GraphVariant, Is.EqualTo(variant));
        Assert.That(File.Exists(_dir.File("onnx/model.onnx.data")), "weights go to external data by default");
        Assert.That(result.Manifest.NumKvHeads, Is.EqualTo(options.KvHeads));
        Assert.That(result.Manifest.Architecture, Is.EqualTo(options.Architecture));
        Assert.That(result.Manifest.SlidingWindow, Is.EqualTo(options.SlidingWindow), "the window travels in the model contract");
        _window = result.Manifest.SlidingWindow;
        _onnx = new OnnxDecoder(_dir.File("onnx"));
        _reference = new LlamaReference(_dir.File("hf"));
    }

    [OneTimeTearDown]
    public void Cleanup()
    {
        _onnx?.Dispose();
        _dir?.Dispose();
    }

    private static readonly int[] Prompt = [1, 17, 42, 5, 99, 3, 64, 8];

    private double[] ReferenceAfter(IEnumerable<int> tokens)
    {
        _reference.Reset();
        return _reference.Run(tokens)[^1];
    }

    [Test]
    public void PrefillMatchesReferenceAtEveryPosition()
    {
        _onnx.Reset();
        _reference.Reset();
        var expected = _reference.Run(Prompt);
        var actual = _onnx.Step(Prompt.Select(t => (long)t).ToArray(), Enumerable.Range(0, Prompt.Length).Select(p => (long)p).ToArray(),
            Causal(0, Prompt.Length));
        for (int i = 0; i < Prompt.Length; i++)
            Assert.That(Logits.RelativeMaxDiff(actual[i], expected[i]), Is.LessThan(Tolerance), $"position {i}");
    }

    [Test]
    public void StepByStepDecodingWithTheCacheMatchesReference()
    {
        _onnx.Reset();
        _reference.Reset();
        // Prefill 3 tokens, then feed greedy tokens back one at a time through the KV cache.
        var expected = _reference.Run(Prompt[..3]);
        var actual = _onnx.Step([Prompt[0], Prompt[1], Prompt[2]], [0, 1, 2], Causal(0, 3));
        Assert.That(Logits.RelativeMaxDiff(actual[2], expected[2]), Is.LessThan(Tolerance));
        int next = Logits.ArgMax(actual[2]);
        for (int step = 0; step < 6; step++)
        {
            int pos = _onnx.PastLength;
            var e = _reference.Forward(next);
            var a = _onnx.Step([next], [pos], Causal(pos, 1))[0];
            Assert.That(Logits.RelativeMaxDiff(a, e), Is.LessThan(Tolerance), $"decode step {step} at position {pos}");
            next = Logits.ArgMax(a);
        }
    }

    [Test]
    public void TreeStepGivesEachNodeTheLogitsOfSequentialDecodingOfItsPath()
    {
        // Context = prefix + root; the root (last context token) is row 0, the draft tree's nodes follow in BFS order.
        int[] prefix = Prompt[..4];
        int root = Prompt[4];
        int[] tokens = [root, 7, 9, 11, 7, 20, 21, 30, 2]; // row 0 = root
        int[] parents = [-1, 0, 0, 0, 1, 1, 2, 4, 7];      // a tree of depth 4 with siblings and a shared token value (7)
        int n = tokens.Length;
        var depth = new int[n];
        for (int i = 1; i < n; i++) depth[i] = depth[parents[i]] + 1;

        _onnx.Reset();
        _onnx.Step(prefix.Select(t => (long)t).ToArray(), Enumerable.Range(0, prefix.Length).Select(p => (long)p).ToArray(),
            Causal(0, prefix.Length));
        int past = _onnx.PastLength;
        // The runtime's tree batch: itself and its ancestors only (inside the window, if any).
        var tree = new DraftTree(n - 1);
        for (int i = 1; i < n; i++) tree.Add(tokens[i], parents[i] - 1);
        var ids = new long[n];
        var positions = new long[n];
        var flat = new float[n * (past + n)];
        VerificationBatch.Fill(tree, root, past, ids, positions, flat, _window);
        Assert.That(ids, Is.EqualTo(tokens.Select(t => (long)t)));
        Assert.That(positions, Is.EqualTo(depth.Select(d => (long)(past + d))));
        var logits = _onnx.Step(ids, positions, To2D(flat, n, past + n));

        for (int i = 0; i < n; i++)
        {
            var path = new List<int>();
            for (int a = i; a >= 0; a = parents[a]) path.Insert(0, tokens[a]);
            var expected = ReferenceAfter(prefix.Concat(path));
            Assert.That(Logits.RelativeMaxDiff(logits[i], expected), Is.LessThan(Tolerance), $"tree node {i} (depth {depth[i]})");
        }

        // Keeping only the cache rows of one accepted path (root -> 1 -> 4 -> 7) and decoding on
        // must equal plain decoding of that path: present.* is past followed by this step's rows, in row order.
        int[] accepted = [0, 1, 4, 7];
        _onnx.KeepRows([.. Enumerable.Range(0, past), .. accepted.Select(r => past + r)]);
        int nextToken = 55, pos = _onnx.PastLength;
        var after = _onnx.Step([nextToken], [pos], Causal(pos, 1))[0];
        var expectedAfter = ReferenceAfter(prefix.Concat(accepted.Select(r => tokens[r])).Append(nextToken));
        Assert.That(Logits.RelativeMaxDiff(after, expectedAfter), Is.LessThan(Tolerance), "decoding after keeping the accepted path");
    }

    [Test]
    public void TheSlidingWindowChangesLogitsOnceTheSequenceOutgrowsIt()
    {
        if (_window is null)
        {
            // Without a window the runtime's masks are the plain causal ones the Llama contract has always used.
            foreach (var (past, seq) in new[] { (0, 8), (5, 1), (3, 4) })
                Assert.That(Causal(past, seq), Is.EqualTo(Logits.Causal(past, seq)), $"past {past}, seq {seq}");
            return;
        }
        var window = _window.Value;
        // Without the window (a plain causal mask) the rows past the window differ clearly: the tests above are not vacuous.
        _onnx.Reset();
        var full = _onnx.Step(Prompt.Select(t => (long)t).ToArray(), Enumerable.Range(0, Prompt.Length).Select(p => (long)p).ToArray(),
            Logits.Causal(0, Prompt.Length));
        var windowed = ReferenceAfter(Prompt);
        Assert.That(window, Is.LessThan(Prompt.Length));
        Assert.That(Logits.RelativeMaxDiff(full[^1], windowed), Is.GreaterThan(100 * Tolerance));
        for (int i = 0; i < window; i++)
            Assert.That(Logits.RelativeMaxDiff(full[i], ReferenceAfter(Prompt[..(i + 1)])), Is.LessThan(Tolerance),
                $"row {i} lies inside the window, so it is unchanged");
    }

    [Test]
    public void LogitsAreWellSeparatedForGreedyTests()
    {
        // The tiny maker promises no practical argmax ties: the top two logits differ clearly.
        var logits = ReferenceAfter(Prompt);
        var sorted = logits.OrderDescending().ToArray();
        Assert.That(sorted[0] - sorted[1], Is.GreaterThan(1e-3));
        Assert.That(sorted[0] - sorted[^1], Is.GreaterThan(1.0), "logits spread over more than a unit");
    }
}
