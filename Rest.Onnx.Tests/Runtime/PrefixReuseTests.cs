using Rest.Onnx.Execution;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Tests.Runtime;

/// <summary>
/// <see cref="GenerationOptions.ReuseCachedPrefix"/>: a run whose prompt repeats the previous run's sequence keeps
/// that part of the KV cache and must generate exactly what a run from an empty cache generates.
/// </summary>
[TestFixture(GraphVariant.Opset23)]
[TestFixture(GraphVariant.Gqa)]
public sealed class PrefixReuseTests(GraphVariant variant) : TinyModelFixture(variant)
{
    private static readonly GenerationOptions Fresh = new() { MaxNewTokens = 24, StopTokenIds = [] };
    private static readonly GenerationOptions Reuse = Fresh with { ReuseCachedPrefix = true };

    [TestCase("None")]
    [TestCase("PromptLookup")]
    public void A_turn_that_extends_the_previous_sequence_prefills_only_the_new_tokens_and_equals_a_fresh_run(string drafting)
    {
        var strategy = drafting == "None" ? DraftingStrategy.None : DraftingStrategy.PromptLookup;
        var random = new Random(21);
        var prompt = GeneratorEquivalenceTests.RandomPrompt(random, 40);
        var first = Generator.Generate(prompt, Fresh);
        int[] sequence = [.. prompt, .. first.Tokens];
        int[] next = [.. sequence, .. GeneratorEquivalenceTests.RandomPrompt(random, 12)];

        var reused = Generator.Generate(next, Reuse with { Drafting = strategy });
        // Plain greedy caches every token but the last one it generated (the next step's root).
        Assert.That(reused.Statistics.ReusedPromptTokens, Is.EqualTo(sequence.Length - 1));
        Assert.That(reused.Statistics.PromptTokens, Is.EqualTo(next.Length));

        var fresh = Generator.Generate(next, Fresh with { Drafting = strategy });
        Assert.That(fresh.Statistics.ReusedPromptTokens, Is.Zero);
        Assert.That(reused.Tokens, Is.EqualTo(fresh.Tokens), "token for token");
        TestContext.Out.WriteLine($"{drafting}: prefill {fresh.Statistics.PrefillTime.TotalMilliseconds:F2} ms for {next.Length} tokens fresh, " +
                                  $"{reused.Statistics.PrefillTime.TotalMilliseconds:F2} ms for {next.Length - reused.Statistics.ReusedPromptTokens} reusing {reused.Statistics.ReusedPromptTokens}");
    }

    [Test]
    public void A_prompt_that_diverges_keeps_only_the_common_prefix()
    {
        var random = new Random(22);
        var prompt = GeneratorEquivalenceTests.RandomPrompt(random, 50);
        Generator.Generate(prompt, Reuse with { Drafting = DraftingStrategy.PromptLookup });
        int[] other = [.. prompt[..20], (prompt[20] + 1) % Model.Manifest.VocabSize, .. GeneratorEquivalenceTests.RandomPrompt(random, 15)];

        var reused = Generator.Generate(other, Reuse);
        Assert.That(reused.Statistics.ReusedPromptTokens, Is.EqualTo(20));
        Assert.That(reused.Tokens, Is.EqualTo(Generator.Generate(other, Fresh).Tokens));
    }

    [Test]
    public void The_same_prompt_twice_recomputes_only_its_last_token()
    {
        var prompt = GeneratorEquivalenceTests.RandomPrompt(new Random(23), 30);
        var first = Generator.Generate(prompt, Fresh);
        var again = Generator.Generate(prompt, Reuse);
        Assert.That(again.Statistics.ReusedPromptTokens, Is.EqualTo(prompt.Length - 1));
        Assert.That(again.Tokens, Is.EqualTo(first.Tokens));
    }

    [Test]
    public void A_cancelled_run_leaves_a_cache_the_next_run_can_reuse()
    {
        var random = new Random(24);
        var prompt = GeneratorEquivalenceTests.RandomPrompt(random, 30);
        using (var cts = new CancellationTokenSource())
        using (var run = Generator.Start(Reuse, cts.Token))
        {
            run.AppendTokens(prompt);
            run.Step();
            run.Step();
            cts.Cancel();
            Assert.Throws<OperationCanceledException>(() => run.Step());
        }
        int[] next = [.. prompt, .. GeneratorEquivalenceTests.RandomPrompt(random, 5)];
        var reused = Generator.Generate(next, Reuse);
        Assert.That(reused.Statistics.ReusedPromptTokens, Is.EqualTo(prompt.Length));
        Assert.That(reused.Tokens, Is.EqualTo(Generator.Generate(next, Fresh).Tokens));
    }

    [Test]
    public unsafe void Truncate_keeps_the_first_positions_of_every_head()
    {
        using var cache = new KvCache(CpuBackend.Instance, layers: 1, kvHeads: 2, headSize: 1, elementSize: sizeof(float), maxLength: 8);
        var present = (float*)cache.Present(0, value: true);
        float[] values = [10, 11, 12, 13, 20, 21, 22, 23];   // [heads 2, length 4, headSize 1]
        values.CopyTo(new Span<float>(present, values.Length));
        cache.Commit(4, [0, 1, 2, 3]);
        cache.Truncate(2);
        Assert.That(cache.Length, Is.EqualTo(2));
        Assert.That(new ReadOnlySpan<float>((float*)cache.Past(0, value: true), 4).ToArray(), Is.EqualTo(new float[] { 10, 11, 20, 21 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Truncate(3));
        cache.Truncate(0);
        Assert.That(cache.Length, Is.Zero);
    }

    [Test]
    public unsafe void Truncate_of_a_shared_cache_keeps_the_prefix_in_place()
    {
        using var cache = new KvCache(CpuBackend.Instance, layers: 1, kvHeads: 2, headSize: 1, elementSize: sizeof(float), maxLength: 4, shared: true);
        var buffer = (float*)cache.Present(0, value: true);
        Assert.That((IntPtr)buffer, Is.EqualTo(cache.Past(0, value: true)), "one buffer is past and present");
        float[] values = [10, 11, 12, 13, 20, 21, 22, 23];   // [heads 2, maxLength 4, headSize 1]
        values.CopyTo(new Span<float>(buffer, values.Length));
        cache.Commit(4, [0, 1, 2, 3]);
        cache.Truncate(2);
        Assert.That(cache.Length, Is.EqualTo(2));
        Assert.That(new ReadOnlySpan<float>(buffer, 8).ToArray(), Is.EqualTo(values), "nothing moves");
        Assert.That(cache.Past(0, value: true), Is.EqualTo((IntPtr)buffer));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Truncate(3));
    }
}
