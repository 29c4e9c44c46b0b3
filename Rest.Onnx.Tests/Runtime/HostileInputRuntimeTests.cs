using System.Buffers.Binary;
using System.Text.RegularExpressions;
using Rest.Onnx.Datastore.Format;
using Rest.Onnx.Datastore.Reading;
using Rest.Onnx.Datastore.Search;

namespace Rest.Onnx.Tests.Runtime;

/// <summary>
/// A corrupt datastore or a misbehaving draft source costs speed, never correctness: no id outside the model's
/// vocabulary reaches a forward pass (ONNX Runtime's Gather would fail on it), and greedy output stays equal
/// to plain greedy.
/// </summary>
public class CorruptDraftTests : TinyModelFixture
{
    private static readonly GenerationOptions Greedy = new() { MaxNewTokens = 24, StopTokenIds = [] };

    [Test]
    public void OutOfVocabularyDraftsFromACustomSourceAreDropped()
    {
        var random = new Random(41);
        var prompt = GeneratorEquivalenceTests.RandomPrompt(random, 10);
        var baseline = Generator.Generate(prompt, Greedy).Tokens.ToArray();
        int[] full = [.. prompt, .. baseline];
        var source = new HostileSource(full);
        // A fixed budget: what is asserted is that the in-vocabulary part is verified, not what the auto budget picks.
        var drafted = Generator.Generate(prompt, Greedy with { Drafting = DraftingStrategy.Custom(source), Draft = new DraftOptions { Budget = 64 } });
        Assert.That(drafted.Tokens, Is.EqualTo(baseline));
        Assert.That(source.BadIdsDrafted, Is.GreaterThan(0), "the source did draft bad ids");
        Assert.That(drafted.Statistics.MeanAcceptedTokensPerStep, Is.GreaterThan(1.5), "the in-vocabulary part of the tree still counts");
    }

    [Test]
    public void FuzzedDatastoresNeverReachTheModelWithBadIds()
    {
        // A store of the prompts' own continuations (so drafts are long), then fixed-seed corruption of its
        // token and suffix-array sections: 16-bit ids up to 65535 against a vocabulary of 512.
        var random = new Random(42);
        var prompts = Enumerable.Range(0, 3).Select(_ => GeneratorEquivalenceTests.RandomPrompt(random, random.Next(4, 16))).ToArray();
        var baselines = prompts.Select(p => Generator.Generate(p, Greedy).Tokens.ToArray()).ToArray();
        var clean = TestDatastores.Build(prompts.Select((p, i) => (int[])[.. p, .. baselines[i], .. p, .. baselines[i]]));
        var bytes = File.ReadAllBytes(clean);
        var corrupt = clean + ".corrupt";
        try
        {
            var badDrafts = 0;
            for (var round = 0; round < 6; round++)
            {
                var copy = (byte[])bytes.Clone();
                using (var layout = DatastoreReader.Open(clean))
                {
                    var shard = layout.Shards[0];
                    var tokensStart = 128;
                    // Token bytes: high bytes set so ids land outside the model's 512; suffix-array entries wild.
                    for (var k = 0; k < 12; k++) copy[tokensStart + 2 * random.Next(shard.TokenCount) + 1] = (byte)random.Next(2, 256);
                    var saStart = (int)(((tokensStart + shard.TokenCount * 2L) + 63) & ~63L);
                    if (round % 2 == 1)
                        for (var k = 0; k < 8; k++)
                            BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(saStart + 4 * random.Next(shard.TokenCount)), random.Next(int.MinValue, int.MaxValue));
                }
                File.WriteAllBytes(corrupt, copy);
                using var store = Model.OpenDatastore(corrupt);
                Assert.Throws<DatastoreFormatException>(() => Model.OpenDatastore(corrupt, verifyChecksums: true).Dispose());

                // The raw source does draft ids outside the vocabulary: the engine must drop them.
                var raw = new DatastoreDraftSource([store.Reader], DraftOptions.Default with { Budget = 32 });
                var tree = new DraftTree(32);
                for (var i = 0; i < prompts.Length; i++)
                {
                    int[] sequence = [.. prompts[i], .. baselines[i]];
                    for (var end = prompts[i].Length; end < sequence.Length; end++)
                    {
                        raw.Draft(sequence.AsSpan(0, end), tree);
                        foreach (var t in tree.Tokens) if (t >= 512) badDrafts++;
                    }
                    foreach (var strategy in new[] { DraftingStrategy.Rest(store), DraftingStrategy.Hybrid(store) })
                    {
                        var result = Generator.Generate(prompts[i], Greedy with { Drafting = strategy });
                        Assert.That(result.Tokens, Is.EqualTo(baselines[i]), $"round {round}, prompt {i}");
                    }
                }
            }
            Assert.That(badDrafts, Is.GreaterThan(0), "the corruption produced out-of-vocabulary drafts");
        }
        finally
        {
            File.Delete(clean);
            File.Delete(corrupt);
        }
    }

    [Test]
    public void AStoreBuiltFromIdsNamesTheMissingFingerprint()
    {
        var folder = TinyModels.EditedCopy(TinyModels.Folder(TinyModels.Default), json => Regex.Replace(
            json, "\"tokenizerFingerprint\"\\s*:\\s*null", "\"tokenizerFingerprint\": \"xxh3-64:1111111111111111\""));
        using var model = RestModel.Load(folder, new ModelOptions { MaxSequenceLength = 32 });
        var store = TestDatastores.Build(TestDatastores.RandomDocuments(1, 2, 50));
        try
        {
            var e = Assert.Throws<TokenizerMismatchException>(() => model.OpenDatastore(store));
            Assert.That(e!.Message, Does.Contain("built with tokenizer (none recorded: built from token ids), but model"));
        }
        finally { File.Delete(store); }
    }

    /// <summary>Drafts the true continuation with out-of-vocabulary siblings and children mixed in.</summary>
    private sealed class HostileSource(int[] full) : IDraftSource
    {
        private static readonly int[] Bad = [-1, 512, 513, int.MaxValue, int.MinValue, 65535];
        private int _next;

        public int BadIdsDrafted { get; private set; }

        public void Draft(ReadOnlySpan<int> context, DraftTree destination)
        {
            destination.Clear();
            var parent = -1;
            for (var depth = 0; depth < 6 && destination.Count + 3 <= destination.Capacity; depth++)
            {
                var bad = destination.Add(Bad[_next++ % Bad.Length], parent);
                destination.Add(7, bad); // a valid id under a bad parent must go with it
                BadIdsDrafted++;
                var index = context.Length + depth;
                if (index >= full.Length) return;
                parent = destination.Add(full[index], parent);
            }
        }
    }
}

/// <summary>rest-model.json that disagrees with the graph fails at load with one message naming the field.</summary>
public class ManifestGraphCheckTests
{
    private static string Folder => TinyModels.Folder(TinyModels.Default);

    private static string Edit(string field, string from, string to)
        => TinyModels.EditedCopy(Folder, json =>
        {
            var edited = Regex.Replace(json, $"\"{field}\"\\s*:\\s*{Regex.Escape(from)}", $"\"{field}\": {to}");
            Assert.That(edited, Is.Not.EqualTo(json), $"the edit of {field} applied");
            return edited;
        });

    [TestCase("numLayers", "2", "3", "numLayers is 3, but the graph has no input 'past_key_values.2.key'")]
    [TestCase("numLayers", "2", "1", "numLayers is 1, but the graph also has 'past_key_values.1.key'")]
    [TestCase("numKvHeads", "2", "4", "numKvHeads is 4, but dimension 1 of 'past_key_values.0.key' is 2")]
    [TestCase("headSize", "16", "8", "headSize is 8, but dimension 3 of 'past_key_values.0.key' is 16")]
    [TestCase("vocabSize", "512", "500", "vocabSize is 500, but the logits' last dimension is 512")]
    [TestCase("dtype", "\"float32\"", "\"float16\"", "but dtype Float16 needs Float16")]
    [TestCase("inputIds", "\"input_ids\"", "\"ids\"", "inputs.inputIds names input 'ids', which the graph does not have")]
    [TestCase("logits", "\"logits\"", "\"scores\"", "outputs.logits names output 'scores'")]
    [TestCase("maxPositions", "256", "512", "maxPositions is 512, but the rotary tables ('rotary.cos_cache') hold 256 positions")]
    [TestCase("maxPositions", "256", "128", "maxPositions is 128, but the rotary tables ('rotary.cos_cache') hold 256 positions")]
    public void AMismatchIsNamedAtLoad(string field, string from, string to, string expected)
    {
        var folder = Edit(field, from, to);
        var e = Assert.Throws<InvalidDataException>(() => RestModel.Load(folder, new ModelOptions { MaxSequenceLength = 64 }).Dispose());
        Assert.That(e!.Message, Does.Contain(expected).And.Contain("rest-model.json' does not match the graph"));
    }

    [Test]
    public void TheExportedManifestMatches()
    {
        using var model = RestModel.Load(Folder, new ModelOptions { MaxSequenceLength = 64 });
        Assert.That(model.Manifest.MaxPositions, Is.EqualTo(256));
    }

    [Test]
    public void ByteFlipsOfTheManifestGiveAClearErrorOrAWorkingModel()
    {
        var original = File.ReadAllBytes(Path.Combine(Folder, "rest-model.json"));
        var random = new Random(51);
        var outcomes = new Dictionary<string, int>();
        for (var f = 0; f < 60; f++)
        {
            var copy = (byte[])original.Clone();
            copy[random.Next(copy.Length)] ^= (byte)random.Next(1, 256);
            var folder = TinyModels.EditedCopy(Folder, json => json);
            File.WriteAllBytes(Path.Combine(folder, "rest-model.json"), copy);
            try
            {
                using var model = RestModel.Load(folder, new ModelOptions { MaxSequenceLength = 32 });
                using var generator = model.CreateGenerator();
                var result = generator.Generate([5, 6, 7], new GenerationOptions { MaxNewTokens = 4, StopTokenIds = [] });
                Assert.That(result.Tokens.ToArray(), Has.All.InRange(0, model.Manifest.VocabSize - 1));
                outcomes["loaded"] = outcomes.GetValueOrDefault("loaded") + 1;
            }
            catch (Exception e) when (e is InvalidDataException or FileNotFoundException or ArgumentOutOfRangeException or NotSupportedException)
            {
                Assert.That(e.Message, Is.Not.Empty);
                Assert.That(e.Message, Does.Not.Contain("OnnxRuntime"), "no raw runtime error");
                outcomes[e.GetType().Name] = outcomes.GetValueOrDefault(e.GetType().Name) + 1;
            }
            finally { Directory.Delete(folder, true); }
        }
        Assert.That(outcomes.GetValueOrDefault(nameof(InvalidDataException)), Is.GreaterThan(0), string.Join(", ", outcomes));
    }
}
