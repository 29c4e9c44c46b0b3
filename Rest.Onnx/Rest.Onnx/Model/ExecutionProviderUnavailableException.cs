namespace Rest.Onnx;

/// <summary>The requested execution provider (CUDA) cannot run here; the message names what is missing.</summary>
public sealed class ExecutionProviderUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ExecutionProviderUnavailableException() { }

    /// <summary>Creates the exception with a message.</summary>
    public ExecutionProviderUnavailableException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public ExecutionProviderUnavailableException(string message, Exception inner) : base(message, inner) { }
}
