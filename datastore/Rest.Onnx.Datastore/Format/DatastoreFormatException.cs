namespace Rest.Onnx.Datastore.Format;

/// <summary>A datastore file is not a valid datastore: wrong magic or version, truncated, inconsistent or corrupt.</summary>
public sealed class DatastoreFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/>; the message names the file.</summary>
    public DatastoreFormatException(string path, string problem)
        : base($"Datastore '{path}': {problem}") => FilePath = path;

    /// <summary>Creates an exception with a plain message.</summary>
    public DatastoreFormatException(string message) : base(message) => FilePath = string.Empty;

    /// <summary>Creates an exception with a plain message and a cause.</summary>
    public DatastoreFormatException(string message, Exception innerException) : base(message, innerException) => FilePath = string.Empty;

    /// <summary>Creates an empty exception.</summary>
    public DatastoreFormatException() => FilePath = string.Empty;

    /// <summary>The datastore file concerned.</summary>
    public string FilePath { get; }
}
