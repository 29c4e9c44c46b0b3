namespace Rest.Onnx.Chat;

/// <summary>
/// A chat template could not be parsed or rendered: a syntax error, a construct this engine does not support,
/// a runtime error (for example an unknown filter), or the template's own <c>raise_exception(...)</c>.
/// The message names the problem and the template line.
/// </summary>
public sealed class ChatTemplateException : Exception
{
    /// <summary>Creates the exception for a problem at a template line.</summary>
    public ChatTemplateException(string problem, int line, bool raisedByTemplate = false)
        : base(raisedByTemplate ? $"Chat template raised an exception at line {line}: {problem}" : $"Chat template line {line}: {problem}")
    {
        Problem = problem;
        TemplateLine = line;
        RaisedByTemplate = raisedByTemplate;
    }

    /// <summary>Creates the exception with a message only.</summary>
    public ChatTemplateException(string message) : base(message) => Problem = message;

    /// <summary>Creates the exception with a message and the underlying error.</summary>
    public ChatTemplateException(string message, Exception innerException) : base(message, innerException) => Problem = message;

    /// <summary>Creates the exception without details.</summary>
    public ChatTemplateException() : this("Chat template error.") { }

    /// <summary>The problem without the line prefix.</summary>
    public string Problem { get; }

    /// <summary>1-based line of the template where the problem is (0 when unknown).</summary>
    public int TemplateLine { get; }

    /// <summary>True when the template itself called <c>raise_exception</c> (the conversation does not fit the template).</summary>
    public bool RaisedByTemplate { get; }
}
