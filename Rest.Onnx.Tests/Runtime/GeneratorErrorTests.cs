using Rest.Onnx.Datastore.Format;
using Rest.Onnx.Execution;

namespace Rest.Onnx.Tests.Runtime;

public class GeneratorErrorTests
{
    private static readonly GenerationOptions Greedy = new() { MaxNewTokens = 8, StopTokenIds = [] };
    private string _folder = null!;
    private RestModel _model = null!;
    private Generator _generator = null!;

    [OneTimeSetUp]
    public void Open()
    {
        _folder = TinyModels.Folder(TinyModels.Default);
        _model = RestModel.Load(_folder, new ModelOptions { MaxSequenceLength = 64, IntraOpThreads = 1 });
        _generator = _model.CreateGenerator();
    }

    [OneTimeTearDown]
    public void Close()
    {
        _generator.Dispose();
        _model.Dispose();
    }

    [Test]
    public void PromptThatLeavesNoRoomIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => _generator.Generate(new int[64], Greedy));
        Assert.That(e!.Message, Does.Contain("64 tokens").And.Contain("MaxSequenceLength"));
        Assert.That(_generator.Generate(new int[] { 1, 2 }, Greedy).Tokens, Has.Count.EqualTo(8), "still usable");
    }

    [Test]
    public void EmptyPromptAndOutOfVocabularyIdsAreRejected()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => _generator.Generate([], Greedy))!.Message, Does.Contain("empty"));
        Assert.That(Assert.Throws<ArgumentException>(() => _generator.Generate([1, 512], Greedy))!.Message, Does.Contain("512"));
    }

    [Test]
    public void RunStopsAtTheSequenceLimitWithTheBaselinesTokens()
    {
        var prompt = Enumerable.Range(3, 50).ToArray();
        var options = Greedy with { MaxNewTokens = 100 };
        var baseline = _generator.Generate(prompt, options);
        Assert.That(baseline.StopReason, Is.EqualTo(StopReason.MaxSequenceLength));
        Assert.That(baseline.Tokens, Has.Count.EqualTo(64 - 50));
        var lookup = _generator.Generate(prompt, options with { Drafting = DraftingStrategy.PromptLookup });
        Assert.That(lookup.Tokens, Is.EqualTo(baseline.Tokens));
    }

    [Test]
    public void StopTokenEndsTheRunBeforeIt()
    {
        int[] prompt = [1, 40, 41, 42];
        var full = _generator.Generate(prompt, Greedy);
        var stop = full.Tokens[4];
        var cut = full.Tokens.TakeWhile(t => t != stop).ToArray();
        var stopped = _generator.Generate(prompt, Greedy with { StopTokenIds = [stop] });
        Assert.That(stopped.StopReason, Is.EqualTo(StopReason.StopToken));
        Assert.That(stopped.Tokens, Is.EqualTo(cut));
    }

    [Test]
    public async Task StreamingYieldsTheSameTokensAsTheBlockingCall()
    {
        int[] prompt = [1, 7, 8, 9, 7, 8];
        var options = Greedy with { MaxNewTokens = 20, Drafting = DraftingStrategy.PromptLookup };
        var blocking = _generator.Generate(prompt, options);
        var streamed = new List<int>();
        GenerationStatistics? last = null;
        await foreach (var chunk in _generator.GenerateStreamingAsync(prompt, options))
        {
            streamed.AddRange(chunk.Tokens.ToArray());
            last = chunk.Statistics;
        }
        Assert.That(streamed, Is.EqualTo(blocking.Tokens));
        Assert.That(last!.TokensGenerated, Is.EqualTo(20));
        Assert.That(last.VerificationSteps, Is.EqualTo(blocking.Statistics.VerificationSteps));
    }

    [Test]
    public void ConcurrentRunOnOneGeneratorIsRejected()
    {
        var stream = _generator.GenerateStreamingAsync(new int[] { 1, 2, 3 }, Greedy).GetAsyncEnumerator();
        try
        {
            Assert.That(stream.MoveNextAsync().AsTask().Result, Is.True);
            Assert.Throws<InvalidOperationException>(() => _generator.Generate([1, 2], Greedy));
        }
        finally
        {
            stream.DisposeAsync().AsTask().Wait();
        }
        Assert.DoesNotThrow(() => _generator.Generate([1, 2], Greedy), "the stream's disposal ended its run");
    }

    [Test]
    public async Task CancellationBetweenStepsLeavesTheGeneratorReusable()
    {
        int[] prompt = [1, 100, 200, 300];
        var expected = _generator.Generate(prompt, Greedy with { MaxNewTokens = 30 }).Tokens;
        using var cts = new CancellationTokenSource();
        var seen = 0;
        Assert.ThrowsAsync<OperationCanceledException>(async () =>
        {
            await foreach (var chunk in _generator.GenerateStreamingAsync(prompt, Greedy with { MaxNewTokens = 30 }, cts.Token))
            {
                if (++seen == 3) await cts.CancelAsync();
            }
        });
        Assert.That(seen, Is.EqualTo(3));
        Assert.That(_generator.Generate(prompt, Greedy with { MaxNewTokens = 30 }).Tokens, Is.EqualTo(expected));
    }

    [Test]
    public void CancellationDuringAStepInterruptsTheModelRun()
    {
        int[] prompt = [1, 5, 6, 7];
        var expected = _generator.Generate(prompt, Greedy with { MaxNewTokens = 12 }).Tokens;
        using var cts = new CancellationTokenSource();
        var source = new CancellingDraftSource(cts, afterCalls: 4);
        Assert.Throws<OperationCanceledException>(() => _generator.Generate(prompt, Greedy with { MaxNewTokens = 12, Drafting = DraftingStrategy.Custom(source) }, cts.Token));
        Assert.That(source.Calls, Is.EqualTo(4), "cancelled inside the 4th step");
        Assert.That(_generator.Generate(prompt, Greedy with { MaxNewTokens = 12 }).Tokens, Is.EqualTo(expected));
    }

    [Test]
    public void TextNeedsATokenizer()
    {
        Assert.Throws<InvalidOperationException>(() => _generator.Generate("hello", Greedy));
        Assert.Throws<InvalidOperationException>(() => _generator.Generate([1, 2], Greedy with { StopStrings = ["x"] }));
    }

    [Test]
    public void RestWithoutDatastoreIsRejected()
        => Assert.Throws<ArgumentException>(() => _generator.Generate([1, 2], Greedy with { Drafting = DraftingStrategy.Rest() }));

    [Test]
    public void DisposedGeneratorAndModelThrow()
    {
        var model = RestModel.Load(_folder, new ModelOptions { MaxSequenceLength = 32 });
        var generator = model.CreateGenerator();
        generator.Dispose();
        Assert.Throws<ObjectDisposedException>(() => generator.Generate([1, 2], Greedy));
        var second = model.CreateGenerator();
        model.Dispose();
        Assert.Throws<ObjectDisposedException>(() => second.Generate([1, 2], Greedy));
        Assert.Throws<ObjectDisposedException>(() => model.CreateGenerator());
        second.Dispose();
    }

    [Test]
    public void WrongModelFoldersNameWhatIsMissing()
    {
        var missing = Path.Combine(Path.GetTempPath(), "rest-no-such-folder-" + Guid.NewGuid().ToString("N"));
        Assert.That(Assert.Throws<DirectoryNotFoundException>(() => RestModel.Load(missing))!.Message, Does.Contain(missing));

        var empty = Directory.CreateTempSubdirectory("rest-empty-").FullName;
        try
        {
            var e = Assert.Throws<FileNotFoundException>(() => RestModel.Load(empty));
            Assert.That(e!.Message, Does.Contain(Path.Combine(empty, "rest-model.json")));
        }
        finally { Directory.Delete(empty, true); }

        var noOnnx = TinyModels.EditedCopy(_folder, json => json.Replace("\"model.onnx\"", "\"absent.onnx\""));
        Assert.That(Assert.Throws<FileNotFoundException>(() => RestModel.Load(noOnnx))!.Message, Does.Contain("absent.onnx"));

        var gqa = TinyModels.EditedCopy(_folder, json => json.Replace("\"opset23\"", "\"gqa\""));
        Assert.That(Assert.Throws<InvalidDataException>(() => RestModel.Load(gqa))!.Message, Does.Contain("graphVariant").And.Contain("gqa"));

        var tooLong = Assert.Throws<ArgumentOutOfRangeException>(() => RestModel.Load(_folder, new ModelOptions { MaxSequenceLength = 100_000 }));
        Assert.That(tooLong!.Message, Does.Contain("maxPositions"));
    }

    [Test]
    public void DatastoreWithAnotherTokenizerIsRefused()
    {
        const string modelPrint = "xxh3-64:1111111111111111";
        const string storePrint = "xxh3-64:2222222222222222";
        var folder = TinyModels.EditedCopy(_folder, json => System.Text.RegularExpressions.Regex.Replace(
            json, "\"tokenizerFingerprint\"\\s*:\\s*null", $"\"tokenizerFingerprint\": \"{modelPrint}\""));
        using var model = RestModel.Load(folder, new ModelOptions { MaxSequenceLength = 32 });
        Assert.That(model.Manifest.TokenizerFingerprint, Is.EqualTo(modelPrint));
        var store = TestDatastores.Build(TestDatastores.RandomDocuments(1, 2, 50), fingerprint: storePrint);
        var good = TestDatastores.Build(TestDatastores.RandomDocuments(1, 2, 50), fingerprint: modelPrint);
        try
        {
            var e = Assert.Throws<TokenizerMismatchException>(() => model.OpenDatastore(store));
            Assert.That(e!.Message, Does.Contain(modelPrint).And.Contain(storePrint).And.Contain(store));
            using var ok = model.OpenDatastore(good);
            Assert.That(ok.TokenizerFingerprint, Is.EqualTo(modelPrint));
        }
        finally
        {
            File.Delete(store);
            File.Delete(good);
        }
    }

    [Test]
    public void CudaWithoutCudaFailsClearlyAndAutoFallsBack()
    {
        if (CudaRuntime.MissingLibraries().Count == 0) Assert.Ignore("CUDA libraries are present on this machine.");
        var e = Assert.Throws<ExecutionProviderUnavailableException>(() => RestModel.Load(_folder, new ModelOptions { ExecutionProvider = ExecutionProvider.Cuda(0) }));
        Assert.That(e!.Message, Does.StartWith("CUDA execution provider unavailable:").And.Contain("not found"));

        var log = new StringWriter();
        using var model = RestModel.Load(_folder, new ModelOptions { ExecutionProvider = ExecutionProvider.Auto, MaxSequenceLength = 32, Log = log });
        Assert.That(model.ExecutionProviderInUse, Is.EqualTo(ExecutionProvider.Cpu));
        Assert.That(log.ToString(), Does.Contain("falling back to the CPU").And.Contain("CUDA execution provider unavailable"));
        Assert.That(model.Warnings, Has.Count.EqualTo(1));
        using var generator = model.CreateGenerator();
        Assert.That(generator.Generate([1, 2, 3], Greedy).Tokens, Is.EqualTo(_generator.Generate([1, 2, 3], Greedy).Tokens));
    }

    private sealed class CancellingDraftSource(CancellationTokenSource cts, int afterCalls) : IDraftSource
    {
        public int Calls { get; private set; }

        public void Draft(ReadOnlySpan<int> context, DraftTree destination)
        {
            destination.Clear();
            if (++Calls == afterCalls) cts.Cancel();
        }
    }
}
