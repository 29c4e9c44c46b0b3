using Rest.Onnx.Datastore.Building;
using Rest.Onnx.DemoModel.Corpus;
using Rest.Onnx.Tests.Datastore;

namespace Rest.Onnx.Tests.DemoModel;

/// <summary>The build figures kept beside a demo store: what a cached store's row in figures datastore-scale reports.</summary>
public class StoreBuildFiguresTests
{
    private TempStore _temp = null!;

    [SetUp]
    public void SetUp() => _temp = new TempStore();

    [TearDown]
    public void TearDown() => _temp.Dispose();

    [Test]
    public void MeasureTimesTheSortApartAndTheFiguresAreReadBackUntilTheStoreIsRebuilt()
    {
        var path = _temp.PathOf("store.rds");
        var documents = Corpora.Markov(seed: 3, documents: 200, minLength: 50, maxLength: 400, alphabet: 39).Select(d => d.Select(t => t + 1).ToArray()).ToList();
        using var log = new StringWriter();
        var (summary, figures) = StoreBuildFigures.Measure(path, log, "test", 0, progress =>
        {
            using var writer = DatastoreWriter.Create(path, new DatastoreBuildOptions { VocabularySize = 40, Separator = 0 }, progress);
            foreach (var d in documents) writer.AddDocument(d);
            return writer.Complete();
        });

        Assert.That(figures.Tokens, Is.EqualTo(summary.Tokens));
        Assert.That(figures.Seconds, Is.EqualTo(summary.Elapsed.TotalSeconds));
        // The sort was seen (its phase began and ended) and is part of the whole build.
        Assert.That(figures.SuffixArraySeconds, Is.GreaterThan(0).And.LessThanOrEqualTo(figures.Seconds));
        if (OperatingSystem.IsLinux()) Assert.That(figures.PeakMemoryBytes, Is.GreaterThan(0));
        Assert.That(log.ToString(), Does.Contain("suffix array"));

        Assert.That(StoreBuildFigures.TryRead(path), Is.EqualTo(figures));
        // A store written after its figures (rebuilt another way) has none.
        File.SetLastWriteTimeUtc(path, File.GetLastWriteTimeUtc(StoreBuildFigures.PathFor(path)).AddSeconds(5));
        Assert.That(StoreBuildFigures.TryRead(path), Is.Null);
        Assert.That(StoreBuildFigures.TryRead(_temp.PathOf("missing.rds")), Is.Null);
    }
}
