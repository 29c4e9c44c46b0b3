using Rest.Onnx.Chat;

namespace Rest.Onnx.Tests.Chat;

/// <summary>Errors, Python-specific behaviour and loading of chat templates.</summary>
public sealed class ChatTemplateTests
{
    private static string Render(string template, IReadOnlyDictionary<string, object?>? variables = null)
        => ChatTemplate.Parse(template).Render([new ChatTemplateMessage("user", "hi")], false, variables);

    [TestCase("{% macro m() %}x{% endmacro %}", "unsupported construct 'macro'", 1)]
    [TestCase("a\nb\n{{ x | frobnicate }}", "unsupported filter 'frobnicate'", 3)]
    [TestCase("\n{% if x is frob %}{% endif %}", "unsupported test 'frob'", 2)]
    [TestCase("{% if true %}\nno end", "'if' is never closed with 'endif'", 1)]
    [TestCase("{% for m in messages %}\n{{ m.role }\n{% endfor %}", "unclosed tag '{{'", 2)]
    [TestCase("{{ 'unterminated }}", "unterminated string literal", 1)]
    [TestCase("{% include 'other.jinja' %}", "unsupported construct 'include'", 1)]
    [TestCase("{{ 1 - 'a' }}", "cannot apply '-' to integer and string", 1)]
    [TestCase("{% endfor %}", "unexpected 'endfor'", 1)]
    public void Unsupported_or_broken_templates_name_the_problem_and_line(string template, string problem, int line)
    {
        var ex = Assert.Throws<ChatTemplateException>(() => Render(template));
        Assert.That(ex!.Message, Does.Contain(problem));
        Assert.That(ex.TemplateLine, Is.EqualTo(line), ex.Message);
        Assert.That(ex.Message, Does.Contain($"line {line}"));
    }

    [Test]
    public void Hostile_templates_fail_cleanly()
    {
        Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse("{{ " + new string('(', 100_000) + "1" + new string(')', 100_000) + " }}"));
        Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(string.Concat(Enumerable.Repeat("{% if true %}", 50_000))));
        Assert.That(Assert.Throws<ChatTemplateException>(() => Render("{% for i in range(10**9) %}{% endfor %}"))!.Message, Does.Contain("range()"));
        Assert.That(Assert.Throws<ChatTemplateException>(() => Render("{{ 'x' * 10**9 }}"))!.Message, Does.Contain("repetition"));
    }

    [Test]
    public void Strip_with_characters_follows_python()
    {
        // The JavaScript port ignores the argument; Python (what apply_chat_template runs) strips only those characters.
        Assert.That(Render("{{ '\\n  x \\n'.strip('\\n') }}|{{ 'xxaxx'.lstrip('x') }}|{{ 'xxaxx'.rstrip('x') }}"), Is.EqualTo("  x |axx|xxa"));
    }

    [Test]
    public void Scalars_print_as_python_prints_them()
    {
        Assert.That(Render("{{ true }} {{ none }} {{ 1.0 }} {{ 2.5 }} {{ [1, 'a'] | tojson }} {{ undefined_thing }}."), Is.EqualTo("True None 1.0 2.5 [1, \"a\"] ."));
    }

    [Test]
    public void Content_that_looks_like_template_syntax_is_not_interpreted()
    {
        var template = ChatTemplate.Parse("{% for m in messages %}[{{ m.content }}]{% endfor %}");
        Assert.That(template.Render([new ChatTemplateMessage("user", "{{ 1 + 1 }} {% if %}")]), Is.EqualTo("[{{ 1 + 1 }} {% if %}]"));
    }

    [Test]
    public void Strftime_now_uses_the_clock()
    {
        var template = ChatTemplate.Parse("{{ strftime_now('%d %b %Y') }}").WithClock(() => new DateTime(2026, 12, 1, 8, 30, 0));
        Assert.That(template.Render([]), Is.EqualTo("01 Dec 2026"));
    }

    [Test]
    public void Tokenizer_config_gives_template_special_tokens_and_added_tokens()
    {
        var folder = Directory.CreateTempSubdirectory("rest-chat-config-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, TokenizerChatConfig.FileName), """
                {"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>",
                 "added_tokens_decoder": {"0": {"content": "<unk>", "special": true}, "32000": {"content": "<|im_start|>", "special": true}},
                 "chat_template": [{"name": "tool_use", "template": "tools"}, {"name": "default", "template": "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}"}]}
                """);
            var config = TokenizerChatConfig.Load(folder);
            Assert.That(config.BosToken, Is.EqualTo("<s>"));
            Assert.That(config.EosToken, Is.EqualTo("</s>"));
            Assert.That(config.AddedTokens["<|im_start|>"], Is.EqualTo(32000));
            Assert.That(config.ParseTemplate()!.Render([new ChatTemplateMessage("user", "hi")]), Is.EqualTo("<s>hi</s>"));

            File.WriteAllText(Path.Combine(folder, TokenizerChatConfig.TemplateFileName), "file:{{ messages | length }}");
            Assert.That(TokenizerChatConfig.Load(folder).ParseTemplate()!.Render([]), Is.EqualTo("file:0"));

            File.WriteAllText(Path.Combine(folder, TokenizerChatConfig.FileName), "{ not json");
            var ex = Assert.Throws<InvalidDataException>(() => TokenizerChatConfig.Load(folder));
            Assert.That(ex!.Message, Does.Contain("not valid JSON"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void Folder_without_config_has_no_template()
    {
        var folder = Directory.CreateTempSubdirectory("rest-chat-config-").FullName;
        try
        {
            Assert.That(TokenizerChatConfig.Load(folder).ParseTemplate(), Is.Null);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
