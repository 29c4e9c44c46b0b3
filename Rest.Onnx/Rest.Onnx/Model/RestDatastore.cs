using Rest.Onnx.Datastore.Reading;

namespace Rest.Onnx;

/// <summary>
/// A datastore opened for a model (memory-mapped; see docs/datastore-format.md), its tokenizer checked
/// against the model's. Thread-safe and shareable between generators; dispose after the runs using it.
/// Open with <see cref="RestModel.OpenDatastore(string)"/>.
/// </summary>
public sealed class RestDatastore : IDisposable
{
    internal RestDatastore(DatastoreReader reader) => Reader = reader;

    /// <summary>The datastore file.</summary>
    public string Path => Reader.Path;

    /// <summary>Tokens stored.</summary>
    public long TokenCount => Reader.TokenCount;

    /// <summary>The tokenizer fingerprint the datastore was built with.</summary>
    public string TokenizerFingerprint => Reader.TokenizerFingerprint;

    internal DatastoreReader Reader { get; }

    /// <summary>Unmaps the file.</summary>
    public void Dispose() => Reader.Dispose();
}
