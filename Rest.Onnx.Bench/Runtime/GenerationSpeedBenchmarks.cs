using BenchmarkDotNet.Attributes;
using Rest.Onnx.Datastore.Building;

namespace Rest.Onnx.Bench.Runtime;

/// <summary>
/// Whole generations of 64 tokens on <see cref="BenchModel.Small"/> (CPU, greedy) with each drafting
/// strategy: the baseline, REST with a datastore that holds the model's own continuations (drafts mostly
/// right), REST with unrelated text (drafts mostly wrong) and prompt lookup, at two draft budgets,
/// with the fixed budget and with <see cref="GenerationOptions.AdaptiveBudget"/>.
/// Shows what an accepted draft saves and what a rejected one costs on a CPU.
/// </summary>
// Native resources are released in [GlobalCleanup], which BenchmarkDotNet calls.
#pragma warning disable CA1001
[ShortRunJob]
[MemoryDiagnoser]
public class GenerationSpeedBenchmarks
{
    private const int NewTokens = 64;
    private string _root = "";
    private RestModel _model = null!;
    private Generator _generator = null!;
    private RestDatastore _own = null!;
    private RestDatastore _unrelated = null!;
    private int[] _prompt = [];

    /// <summary>Where drafts come from.</summary>
    [Params("None", "RestOwnText", "RestUnrelated", "PromptLookup", "RestOwnTextAdaptive", "RestUnrelatedAdaptive")]
    public string Drafts { get; set; } = "None";

    /// <summary>Most draft nodes per step.</summary>
    [Params(8, 64)]
    public int Budget { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var folder = BenchModel.Export(BenchModel.Small, out _root);
        _model = RestModel.Load(folder, new ModelOptions { MaxSequenceLength = 512 });
        _generator = _model.CreateGenerator();
        var random = new Random(12);
        _prompt = [1, .. Enumerable.Range(0, 40).Select(_ => random.Next(3, 4096))];
        var baseline = _generator.Generate(_prompt, new GenerationOptions { MaxNewTokens = NewTokens, StopTokenIds = [] }).Tokens;
        _own = _model.OpenDatastore(Build("own", [[.. _prompt, .. baseline]], random));
        _unrelated = _model.OpenDatastore(Build("unrelated", [], random));
    }

    [Benchmark]
    public int Generate() => _generator.Generate(_prompt, Options(new GenerationOptions())).Tokens.Count;

    private GenerationOptions Options(GenerationOptions options)
    {
        options = options with { MaxNewTokens = NewTokens, StopTokenIds = [], Draft = new() { Budget = Budget } };
        return Drafts switch
        {
            "RestOwnText" => options with { Drafting = DraftingStrategy.Rest(_own) },
            "RestUnrelated" => options with { Drafting = DraftingStrategy.Rest(_unrelated) },
            "PromptLookup" => options with { Drafting = DraftingStrategy.PromptLookup },
            "RestOwnTextAdaptive" => options with { Drafting = DraftingStrategy.Rest(_own), AdaptiveBudget = true },
            "RestUnrelatedAdaptive" => options with { Drafting = DraftingStrategy.Rest(_unrelated), AdaptiveBudget = true },
            _ => options,
        };
    }

    private string Build(string name, int[][] documents, Random random)
    {
        var path = Path.Combine(_root, name + ".restds");
        using var writer = DatastoreWriter.Create(path, new DatastoreBuildOptions { VocabularySize = 4096 });
        foreach (var document in documents) writer.AddDocument(document);
        // 200k tokens of random text around it, so every store has many short matches.
        for (var d = 0; d < 100; d++) writer.AddDocument([.. Enumerable.Range(0, 2000).Select(_ => random.Next(3, 4096))]);
        writer.Complete();
        return path;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        var s = _generator.Generate(_prompt, Options(new GenerationOptions())).Statistics;
        Console.WriteLine($"// {Drafts}/{Budget}: {s}");
        _own.Dispose();
        _unrelated.Dispose();
        _generator.Dispose();
        _model.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
#pragma warning restore CA1001
