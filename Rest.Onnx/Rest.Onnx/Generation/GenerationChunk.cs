namespace Rest.Onnx;

/// <summary>
/// What one verification step added: its tokens and, with a tokenizer, the new text.
/// <see cref="Tokens"/> points into the generator's buffer and is valid until the stream moves on.
/// </summary>
/// <param name="Tokens">Tokens of this step (one or more; empty only for a final chunk after a stop).</param>
/// <param name="Text">Text these tokens completed (empty without a tokenizer or while a character is incomplete).</param>
/// <param name="Statistics">The run's statistics so far (final after the last chunk).</param>
public readonly record struct GenerationChunk(ReadOnlyMemory<int> Tokens, string Text, GenerationStatistics Statistics);
