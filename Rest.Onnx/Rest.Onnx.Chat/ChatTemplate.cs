using Rest.Onnx.Chat.Jinja;

namespace Rest.Onnx.Chat;

/// <summary>One message as a chat template sees it: <c>message.role</c> and <c>message.content</c>.</summary>
/// <param name="Role">"system", "user", "assistant" (or whatever the template accepts).</param>
/// <param name="Content">The message text.</param>
public sealed record ChatTemplateMessage(string Role, string Content);

/// <summary>
/// A Hugging Face chat template (<c>tokenizer_config.json</c>'s <c>chat_template</c>, a Jinja template) parsed once and
/// rendered as <c>apply_chat_template</c> does: variables <c>messages</c>, <c>add_generation_prompt</c>,
/// <c>bos_token</c>, <c>eos_token</c>, plus any extra ones; Jinja with <c>trim_blocks</c> and <c>lstrip_blocks</c> on;
/// <c>raise_exception</c>, <c>namespace</c>, <c>range</c>, <c>strftime_now</c>; the filters, tests and string methods
/// that the Llama 2/3, Mistral, ChatML/Qwen, Phi-3, Zephyr, Gemma and SmolLM templates use. Immutable and thread-safe.
/// </summary>
/// <remarks>
/// Hand-written because no .NET Jinja implementation is available here, and chat templates need only a small,
/// well-defined subset (no macros, includes or autoescaping). Renderings are checked byte for byte against
/// Hugging Face's own JavaScript Jinja (@huggingface/jinja) in the tests. Where Python's Jinja and the JavaScript
/// port disagree, this follows Python (the reference <c>apply_chat_template</c>): <c>strip('\n')</c> strips only the
/// given characters, and <c>True</c>/<c>None</c> print as Python prints them. Anything else unsupported (macros,
/// <c>call</c> blocks, unknown filters or tests) is a <see cref="ChatTemplateException"/> naming the construct and line.
/// </remarks>
public sealed class ChatTemplate
{
    private readonly List<Node> _nodes;

    private ChatTemplate(string source, List<Node> nodes)
    {
        Source = source;
        _nodes = nodes;
    }

    /// <summary>The template text.</summary>
    public string Source { get; }

    /// <summary>Value of <c>bos_token</c> when rendering (empty when the tokenizer defines none).</summary>
    public string BosToken { get; init; } = "";

    /// <summary>Value of <c>eos_token</c> when rendering.</summary>
    public string EosToken { get; init; } = "";

    /// <summary>Clock for <c>strftime_now</c> (Llama 3.2 prints today's date); null means the local time.</summary>
    public Func<DateTime>? Clock { get; private init; }

    /// <summary>Parses a template.</summary>
    /// <exception cref="ChatTemplateException">A syntax error or an unsupported construct (the message names it and the line).</exception>
    public static ChatTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        try
        {
            return new ChatTemplate(source, Parser.Parse(Lexer.Tokenize(source)));
        }
        catch (InsufficientExecutionStackException e)
        {
            throw new ChatTemplateException("Chat template nests too deeply.", e);
        }
    }

    /// <summary>A copy that renders <c>bos_token</c> and <c>eos_token</c> as given.</summary>
    public ChatTemplate WithSpecialTokens(string bosToken, string eosToken)
    {
        ArgumentNullException.ThrowIfNull(bosToken);
        ArgumentNullException.ThrowIfNull(eosToken);
        return new ChatTemplate(Source, _nodes) { BosToken = bosToken, EosToken = eosToken, Clock = Clock };
    }

    /// <summary>A copy whose <c>strftime_now</c> reads <paramref name="clock"/>.</summary>
    public ChatTemplate WithClock(Func<DateTime> clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        return new ChatTemplate(Source, _nodes) { BosToken = BosToken, EosToken = EosToken, Clock = clock };
    }

    /// <summary>Renders <paramref name="messages"/> with the template.</summary>
    /// <param name="messages">The conversation.</param>
    /// <param name="addGenerationPrompt">Append the header that opens the assistant's reply.</param>
    /// <param name="variables">Extra template variables (for example <c>enable_thinking</c>, <c>date_string</c>); values may be strings, numbers, bools, lists and string-keyed dictionaries.</param>
    /// <exception cref="ChatTemplateException">The template fails or raises (for example roles that do not alternate).</exception>
    public string Render(IReadOnlyList<ChatTemplateMessage> messages, bool addGenerationPrompt = false, IReadOnlyDictionary<string, object?>? variables = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = new List<object?>(messages.Count);
        foreach (var m in messages)
        {
            ArgumentNullException.ThrowIfNull(m, nameof(messages));
            list.Add(new OrderedDictionary<string, object?> { ["role"] = m.Role, ["content"] = m.Content });
        }
        var context = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["messages"] = list,
            ["add_generation_prompt"] = addGenerationPrompt,
            ["bos_token"] = BosToken,
            ["eos_token"] = EosToken,
        };
        if (variables is not null) foreach (var (k, v) in variables) context[k] = v;
        return Render(context);
    }

    /// <summary>Renders with exactly the given variables (messages as lists of dictionaries, as in Python).</summary>
    /// <exception cref="ChatTemplateException">The template fails or raises.</exception>
    public string Render(IReadOnlyDictionary<string, object?> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        try
        {
            return new Interpreter(Clock ?? (() => DateTime.Now)).Render(_nodes, variables);
        }
        catch (InsufficientExecutionStackException e)
        {
            throw new ChatTemplateException("Chat template nests too deeply.", e);
        }
    }
}
