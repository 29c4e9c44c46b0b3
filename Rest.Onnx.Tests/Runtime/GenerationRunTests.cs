using System.Collections.Concurrent;

namespace Rest.Onnx.Tests.Runtime;

/// <summary>The step-wise API and streaming's yielding: the same tokens as one-shot generation, and the caller's thread free between steps.</summary>
public class GenerationRunTests : TinyModelFixture
{
    private static readonly GenerationOptions Greedy = new() { MaxNewTokens = 20, StopTokenIds = [] };

    [Test]
    public void StepsProduceWhatGenerateProduces()
    {
        int[] prompt = [1, 10, 11, 12, 10, 11, 12, 40];
        foreach (var drafting in new[] { DraftingStrategy.None, DraftingStrategy.PromptLookup })
        {
            var options = Greedy with { Drafting = drafting };
            var expected = Generator.Generate(prompt, options);
            var collected = new List<int>();
            using (var run = Generator.Start(options))
            {
                Assert.That(run.IsDone, Is.False);
                Assert.That(run.StopReason, Is.Null);
                run.AppendTokens(prompt);
                Assert.That(run.Sequence.ToArray(), Is.EqualTo(prompt));
                var steps = 0;
                while (!run.IsDone)
                {
                    var accepted = run.Step();
                    Assert.That(accepted.Length, Is.GreaterThan(0), "a step that does not end the run adds a token");
                    collected.AddRange(accepted.ToArray());
                    steps++;
                }
                Assert.That(run.Step().Length, Is.Zero, "a finished run adds nothing");
                Assert.That(run.StopReason, Is.EqualTo(StopReason.MaxNewTokens));
                Assert.That(run.NewTokens.ToArray(), Is.EqualTo(collected));
                Assert.That(steps, Is.EqualTo(expected.Statistics.VerificationSteps));
            }
            Assert.That(collected, Is.EqualTo(expected.Tokens), drafting.Name);
        }
    }

    [Test]
    public void TokensAppendedBetweenStepsAreDecodedAsIfTheyWereInThePrompt()
    {
        int[] prompt = [1, 17, 300, 42, 5];
        int[] forced = [99, 230, 7];
        using var run = Generator.Start(Greedy with { MaxNewTokens = 16 });
        run.AppendTokens(prompt);
        run.Step();
        run.Step();
        run.AppendTokens(forced);
        var sequence = run.Sequence.ToArray();
        var next = new List<int>();
        for (var i = 0; i < 4; i++) next.AddRange(run.Step().ToArray());

        var fresh = Generator2().Generate(sequence, Greedy with { MaxNewTokens = next.Count });
        Assert.That(next, Is.EqualTo(fresh.Tokens));
    }

    [Test]
    public void MisuseIsRefusedAndTheGeneratorStaysUsable()
    {
        using (var run = Generator.Start(Greedy))
        {
            Assert.Throws<InvalidOperationException>(() => run.Step(), "step before the prompt");
            Assert.Throws<ArgumentException>(() => run.AppendTokens([]));
            Assert.Throws<InvalidOperationException>(() => Generator.Generate([1, 2], Greedy), "one run at a time");
        }
        var disposed = Generator.Start(Greedy);
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => disposed.AppendTokens([1, 2]));
        Assert.That(Generator.Generate([1, 2, 3], Greedy with { MaxNewTokens = 3 }).Tokens, Has.Count.EqualTo(3));
    }

    [Test]
    public void StreamingYieldsBeforePrefillAndBeforeEveryStep()
    {
        // Continuations posted to a context nobody pumps yet: a MoveNextAsync that ran a step inline would complete at once.
        var context = new QueueContext();
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(context);
        try
        {
            var enumerator = Generator.GenerateStreamingAsync(new int[] { 1, 10, 11, 12 }, Greedy with { MaxNewTokens = 5 }).GetAsyncEnumerator();
            var chunks = 0;
            while (true)
            {
                var next = enumerator.MoveNextAsync().AsTask();
                // Every call that runs a step yields first; the one after the last chunk only ends the sequence.
                if (chunks < 5) Assert.That(next.IsCompleted, Is.False, $"MoveNextAsync {chunks + 1} ran on the caller's thread");
                context.RunUntil(() => next.IsCompleted);
                if (!next.Result) break;
                chunks++;
            }
            Assert.That(chunks, Is.EqualTo(5));
            var dispose = enumerator.DisposeAsync().AsTask();
            context.RunUntil(() => dispose.IsCompleted);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private Generator? _second;

    /// <summary>A second generator of the same model, for a fresh run beside an open one.</summary>
    private Generator Generator2() => _second ??= Model.CreateGenerator();

    [OneTimeTearDown]
    public void DisposeSecond() => _second?.Dispose();

    /// <summary>A single-threaded context that runs posted callbacks only when pumped.</summary>
    private sealed class QueueContext : SynchronizationContext
    {
        private readonly BlockingCollection<(SendOrPostCallback, object?)> _queue = [];

        public override void Post(SendOrPostCallback d, object? state) => _queue.Add((d, state));

        public void RunUntil(Func<bool> done)
        {
            var deadline = DateTime.UtcNow.AddMinutes(1);
            while (!done())
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException("streaming did not finish");
                if (_queue.TryTake(out var item, TimeSpan.FromMilliseconds(50))) item.Item1(item.Item2);
            }
        }
    }
}
