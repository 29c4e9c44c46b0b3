using System.Text.Json;
using Rest.Onnx.Chat;
using Rest.Onnx.Tests.Tokenization;

namespace Rest.Onnx.Tests.Chat;

/// <summary>
/// The C# chat-template renderer against Hugging Face's JavaScript Jinja (@huggingface/jinja 0.5.11), byte for byte:
/// Goldens/goldens.json was written by Goldens/render-goldens.mjs from templates.json (Llama 2/3/3.1, Mistral, Qwen2.5/3,
/// ChatML, Phi-3, Zephyr, SmolLM2, Gemma, and a template that exercises every supported filter and test) over the
/// conversations in conversations.json, with and without add_generation_prompt. A golden error is the template's
/// own raise_exception, which must surface as a ChatTemplateException with the same text.
/// </summary>
public sealed class ChatTemplateGoldenTests
{
    private static string GoldenFolder => Path.Combine(TokenizerTestFiles.RepositoryRoot, "Rest.Onnx.Tests", "Chat", "Goldens");

    private static readonly Lazy<Dictionary<string, ChatTemplate>> Templates = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(GoldenFolder, "templates.json")));
        return doc.RootElement.EnumerateArray().ToDictionary(
            t => t.GetProperty("name").GetString()!,
            t => ChatTemplate.Parse(t.GetProperty("template").GetString()!)
                .WithSpecialTokens(t.GetProperty("bos_token").GetString()!, t.GetProperty("eos_token").GetString()!));
    });

    private static readonly Lazy<Dictionary<string, List<ChatTemplateMessage>>> Conversations = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(GoldenFolder, "conversations.json")));
        return doc.RootElement.GetProperty("conversations").EnumerateObject().ToDictionary(
            c => c.Name,
            c => c.Value.EnumerateArray().Select(m => new ChatTemplateMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)).ToList());
    });

    public static IEnumerable<TestCaseData> Goldens()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(GoldenFolder, "goldens.json")));
        foreach (var g in doc.RootElement.GetProperty("goldens").EnumerateArray())
        {
            var variables = g.GetProperty("variables").EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());
            var name = $"{g.GetProperty("template").GetString()} {g.GetProperty("conversation").GetString()} agp={g.GetProperty("add_generation_prompt").GetBoolean()}"
                       + (variables.Count > 0 ? " " + string.Join(",", variables.Keys) : "");
            yield return new TestCaseData(
                g.GetProperty("template").GetString(), g.GetProperty("conversation").GetString(), g.GetProperty("add_generation_prompt").GetBoolean(), variables,
                g.TryGetProperty("output", out var o) ? o.GetString() : null, g.TryGetProperty("error", out var e) ? e.GetString() : null).SetName(name);
        }
    }

    [TestCaseSource(nameof(Goldens))]
    public void Renders_as_huggingface_jinja(string template, string conversation, bool addGenerationPrompt, Dictionary<string, object?> variables, string? output, string? error)
    {
        var t = Templates.Value[template];
        var messages = Conversations.Value[conversation];
        if (error is null)
        {
            Assert.That(t.Render(messages, addGenerationPrompt, variables), Is.EqualTo(output));
            return;
        }
        var ex = Assert.Throws<ChatTemplateException>(() => t.Render(messages, addGenerationPrompt, variables));
        Assert.That(ex!.RaisedByTemplate, Is.True);
        Assert.That(ex.Problem, Is.EqualTo(error));
        Assert.That(ex.TemplateLine, Is.GreaterThan(0));
    }

    [Test]
    public void Every_template_and_conversation_has_goldens()
    {
        var cases = Goldens().ToList();
        Assert.That(cases.Select(c => (string)c.Arguments[0]!).Distinct(), Is.EquivalentTo(Templates.Value.Keys));
        Assert.That(cases, Has.Count.EqualTo(Templates.Value.Count * Conversations.Value.Count * 2 + 3));
    }
}
