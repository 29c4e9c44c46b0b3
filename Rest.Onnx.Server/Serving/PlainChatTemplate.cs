using Rest.Onnx.Chat;

namespace Rest.Onnx.Server.Serving;

/// <summary>
/// The template for a model folder without a chat template (the demo model, a code-completion model): the messages'
/// contents concatenated in order, nothing between them and no role markers, after BOS where the model's text
/// prompts start with one. So a single user message is the prompt exactly as <see cref="Generator.Generate(string, GenerationOptions, CancellationToken)"/>
/// would see it, and the reply is its continuation.
/// </summary>
internal static class PlainChatTemplate
{
    public const string Source = "{{ bos_token }}{% for message in messages %}{{ message.content }}{% endfor %}";

    public static ChatTemplate For(RestModel model, TokenizerChatConfig config)
    {
        var bosId = model.Manifest.BosTokenId ?? model.Tokenizer?.BosId ?? -1;
        var bos = model.AddsBosToText && bosId >= 0
            ? config.BosToken ?? model.Tokenizer?.Decode([bosId], skipSpecialTokens: false) ?? ""
            : "";
        return ChatTemplate.Parse(Source).WithSpecialTokens(bos, config.EosToken ?? "");
    }
}
