namespace Rest.Onnx.DemoModel.Corpus;

/// <summary>A dev prompt: a function signature and its docstring, cut verbatim from a held-out file.</summary>
/// <param name="Prompt">The text, from the start of the <c>def</c> line through the line closing the docstring (newline included).</param>
/// <param name="File">Relative path of the source file.</param>
/// <param name="Line">1-based line of the <c>def</c>.</param>
/// <param name="HasDocstring">False for a signature-only prompt (a def whose body has no docstring; the prompt ends with the signature).</param>
public sealed record DevPrompt(string Prompt, string File, int Line, bool HasDocstring = true);

/// <summary>
/// A context dev prompt: whole preceding functions or classes of the same scope, then a function's signature and
/// docstring (the short <see cref="DevPrompt"/> of that function), cut verbatim from a held-out file.
/// </summary>
/// <param name="Prompt">The text, from the first line of the earliest preceding block through the line closing the docstring (newline included).</param>
/// <param name="File">Relative path of the source file.</param>
/// <param name="Line">1-based first line of the prompt (the first context block).</param>
/// <param name="DefLine">1-based line of the <c>def</c> to continue.</param>
/// <param name="ContextBlocks">Whole preceding blocks (def, class, decorated or not) in the prompt.</param>
/// <param name="HasDocstring">False when the def to continue has no docstring (the prompt ends with its signature).</param>
public sealed record ContextDevPrompt(string Prompt, string File, int Line, int DefLine, int ContextBlocks, bool HasDocstring = true);
