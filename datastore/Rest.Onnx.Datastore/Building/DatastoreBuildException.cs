namespace Rest.Onnx.Datastore.Building;

/// <summary>
/// Building a datastore failed because of its input (empty corpus, unreadable file, id outside the
/// vocabulary, malformed line) or because the output could not be written. No output file is left behind.
/// </summary>
public sealed class DatastoreBuildException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DatastoreBuildException(string message) : base(message) { }

    /// <summary>Creates the exception with its cause.</summary>
    public DatastoreBuildException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates an empty exception.</summary>
    public DatastoreBuildException() { }
}
