namespace Rest.Onnx.DemoModel.Corpus;

/// <summary>A dev prompt: a function signature and its docstring, cut verbatim from a held-out file.</summary>
/// <param name="Prompt">The text, from the start of the <c>def</c> line through the line closing the docstring (newline included).</param>
/// <param name="File">Relative path of the source file.</param>
/// <param name="Line">1-based line of the <c>def</c>.</param>
public sealed record DevPrompt(string Prompt, string File, int Line);
