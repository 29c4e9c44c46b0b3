using System.Text.Json;

namespace Rest.Onnx.Chat;

/// <summary>
/// What a Hugging Face model folder says about chat: the <c>chat_template</c> (from <c>chat_template.jinja</c> or
/// <c>tokenizer_config.json</c>; a list of named templates picks "default"), <c>bos_token</c>, <c>eos_token</c>, and
/// the added tokens (<c>added_tokens_decoder</c>), whose texts a rendered prompt must encode as single ids.
/// </summary>
public sealed class TokenizerChatConfig
{
    /// <summary>File name of the tokenizer configuration.</summary>
    public const string FileName = "tokenizer_config.json";

    /// <summary>File name of a stand-alone template (newer Hugging Face folders).</summary>
    public const string TemplateFileName = "chat_template.jinja";

    private TokenizerChatConfig(string? template, string? bos, string? eos, IReadOnlyDictionary<string, int> added)
    {
        ChatTemplate = template;
        BosToken = bos;
        EosToken = eos;
        AddedTokens = added;
    }

    /// <summary>The template source, or null when the folder has none.</summary>
    public string? ChatTemplate { get; }

    /// <summary>The BOS token text, or null.</summary>
    public string? BosToken { get; }

    /// <summary>The EOS token text, or null.</summary>
    public string? EosToken { get; }

    /// <summary>Added (special) token texts and their ids.</summary>
    public IReadOnlyDictionary<string, int> AddedTokens { get; }

    /// <summary>Reads a model folder (or a <c>tokenizer_config.json</c> path). A folder without the file gives an empty configuration.</summary>
    /// <exception cref="InvalidDataException">The file is not valid JSON or a field has the wrong type.</exception>
    public static TokenizerChatConfig Load(string folderOrFile)
    {
        ArgumentNullException.ThrowIfNull(folderOrFile);
        var folder = Directory.Exists(folderOrFile) ? folderOrFile : Path.GetDirectoryName(Path.GetFullPath(folderOrFile)) ?? ".";
        var path = Directory.Exists(folderOrFile) ? Path.Combine(folderOrFile, FileName) : folderOrFile;
        string? template = null, bos = null, eos = null;
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        if (File.Exists(path))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true });
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: expected a JSON object.");
                if (root.TryGetProperty("chat_template", out var t)) template = ReadTemplate(t, path);
                bos = TokenText(root, "bos_token", path);
                eos = TokenText(root, "eos_token", path);
                if (root.TryGetProperty("added_tokens_decoder", out var decoder) && decoder.ValueKind == JsonValueKind.Object)
                {
                    foreach (var entry in decoder.EnumerateObject())
                    {
                        if (!int.TryParse(entry.Name, out var id) || id < 0) throw new InvalidDataException($"{path}: added_tokens_decoder key '{entry.Name}' is not a token id.");
                        if (entry.Value.ValueKind == JsonValueKind.Object && entry.Value.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
                            added[content.GetString()!] = id;
                    }
                }
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e);
            }
        }
        var standalone = Path.Combine(folder, TemplateFileName);
        if (File.Exists(standalone)) template = File.ReadAllText(standalone);
        return new TokenizerChatConfig(template, bos, eos, added);
    }

    /// <summary>The parsed template with this folder's BOS/EOS texts, or null when there is none.</summary>
    /// <exception cref="ChatTemplateException">The template does not parse.</exception>
    public ChatTemplate? ParseTemplate() => ChatTemplate is null ? null : Chat.ChatTemplate.Parse(ChatTemplate).WithSpecialTokens(BosToken ?? "", EosToken ?? "");

    private static string? ReadTemplate(JsonElement t, string path)
    {
        switch (t.ValueKind)
        {
            case JsonValueKind.String:
                return t.GetString();
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.Array:
                string? first = null;
                foreach (var item in t.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("template", out var body) || body.ValueKind != JsonValueKind.String)
                        throw new InvalidDataException($"{path}: chat_template list entries need a \"template\" string.");
                    var name = item.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
                    if (name == "default") return body.GetString();
                    first ??= body.GetString();
                }
                return first;
            default:
                throw new InvalidDataException($"{path}: chat_template must be a string or a list of named templates.");
        }
    }

    private static string? TokenText(JsonElement root, string name, string path)
    {
        if (!root.TryGetProperty(name, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Null => null,
            JsonValueKind.Object when value.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
            _ => throw new InvalidDataException($"{path}: {name} must be a string or an object with \"content\"."),
        };
    }
}
