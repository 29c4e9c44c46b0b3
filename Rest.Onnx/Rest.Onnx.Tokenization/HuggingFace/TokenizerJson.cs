using System.Text.Json;

namespace Rest.Onnx.Tokenization.HuggingFace;

/// <summary>One entry of tokenizer.json's <c>added_tokens</c>.</summary>
internal readonly record struct AddedTokenEntry(int Id, string Content, bool Special);

/// <summary>
/// What the project reads itself from a Hugging Face <c>tokenizer.json</c>: the model type (only BPE
/// is accepted), the id range, the added tokens and BOS/EOS/pad. Encoding and decoding are left to
/// HF tokenizers' Rust core (<see cref="NativeHfTokenizer"/>), which gets a copy rewritten by
/// <see cref="Rewrite"/>.
/// </summary>
internal sealed class TokenizerJson
{
    private TokenizerJson(string path) => Path = path;

    public string Path { get; }
    public string ModelType { get; private set; } = "";
    public int VocabularySize { get; private set; }
    public AddedTokenEntry[] AddedTokens { get; private set; } = [];
    public int BosId { get; private set; } = -1;
    public int EosId { get; private set; } = -1;
    public int PadId { get; private set; } = -1;
    public bool ByteLevel { get; private set; }

    /// <summary>Parses the metadata of a tokenizer.json (and of a tokenizer_config.json beside it, for BOS/EOS/pad).</summary>
    /// <exception cref="InvalidDataException">Not JSON, not a tokenizer.json, or a model type other than BPE.</exception>
    public static TokenizerJson Parse(JsonDocument doc, string path)
    {
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"'{path}' has no \"model\" object: not a Hugging Face tokenizer.json.");
        var info = new TokenizerJson(path);
        // HF writes "type"; very old files leave it out, and a BPE model is then told by its merges.
        info.ModelType = model.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString()!
            : model.TryGetProperty("merges", out _) ? "BPE" : "(none)";
        if (info.ModelType != "BPE")
            throw new InvalidDataException(
                $"'{path}': tokenizer.json model type '{info.ModelType}' is not supported; only BPE tokenizers are " +
                "(byte-level such as Llama 3 and Qwen, or SentencePiece-style with byte fallback such as Llama 2 and Mistral).");
        if (!model.TryGetProperty("vocab", out var vocab) || vocab.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"'{path}': the BPE model has no \"vocab\" object.");

        var byContent = new Dictionary<string, int>(StringComparer.Ordinal);
        var maxId = -1;
        foreach (var entry in vocab.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id) || id < 0)
                throw new InvalidDataException($"'{path}': vocabulary entry {JsonSerializer.Serialize(entry.Name)} has no valid id.");
            maxId = Math.Max(maxId, id);
            byContent.TryAdd(entry.Name, id);
        }
        var added = new List<AddedTokenEntry>();
        if (root.TryGetProperty("added_tokens", out var addedTokens) && addedTokens.ValueKind == JsonValueKind.Array)
        {
            foreach (var t in addedTokens.EnumerateArray())
            {
                if (!t.TryGetProperty("id", out var idElement) || !idElement.TryGetInt32(out var id) || id < 0
                    || !t.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"'{path}': added_tokens entry {added.Count} has no valid id and content.");
                var special = t.TryGetProperty("special", out var s) && s.ValueKind == JsonValueKind.True;
                added.Add(new AddedTokenEntry(id, content.GetString()!, special));
                byContent[content.GetString()!] = id;
                maxId = Math.Max(maxId, id);
            }
        }
        if (maxId < 0) throw new InvalidDataException($"'{path}': the vocabulary is empty.");
        info.VocabularySize = maxId + 1;
        info.AddedTokens = [.. added];
        info.ByteLevel = MentionsType(root, "pre_tokenizer", "ByteLevel") || MentionsType(root, "decoder", "ByteLevel");
        info.ReadSpecialIds(root, byContent);
        return info;
    }

    /// <summary>
    /// The file as HF tokenizers should load it here: no post-processor (so encoding never adds BOS/EOS;
    /// callers decide) and every added token marked non-special (so decoding keeps their text; the
    /// facade drops special ids itself when asked). With <paramref name="specialAsText"/> the special
    /// added tokens are removed instead, so their text is encoded as plain text (HF's encode_special_tokens).
    /// </summary>
    public static byte[] Rewrite(JsonDocument doc, bool specialAsText)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.NameEquals("post_processor"))
                {
                    writer.WriteNull(property.Name);
                }
                else if (property.NameEquals("added_tokens") && property.Value.ValueKind == JsonValueKind.Array)
                {
                    writer.WriteStartArray(property.Name);
                    foreach (var token in property.Value.EnumerateArray())
                    {
                        var special = token.TryGetProperty("special", out var s) && s.ValueKind == JsonValueKind.True;
                        if (special && specialAsText) continue;
                        writer.WriteStartObject();
                        foreach (var field in token.EnumerateObject())
                        {
                            if (field.NameEquals("special")) writer.WriteBoolean(field.Name, false);
                            else field.WriteTo(writer);
                        }
                        writer.WriteEndObject();
                    }
                    writer.WriteEndArray();
                }
                else
                {
                    property.WriteTo(writer);
                }
            }
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static bool MentionsType(JsonElement root, string component, string typeName)
    {
        return root.TryGetProperty(component, out var c) && Walk(c);

        bool Walk(JsonElement e)
        {
            if (e.ValueKind == JsonValueKind.Array) return e.EnumerateArray().Any(Walk);
            if (e.ValueKind != JsonValueKind.Object) return false;
            if (e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == typeName) return true;
            return e.EnumerateObject().Any(p => p.Value.ValueKind is JsonValueKind.Array or JsonValueKind.Object && Walk(p.Value));
        }
    }

    // BOS/EOS/pad: tokenizer.json does not name them. tokenizer_config.json beside it does (as HF
    // transformers reads them); without it, BOS is the first special token of the post-processor's
    // template, and BOS/EOS fall back to the usual names of the Llama family.
    private void ReadSpecialIds(JsonElement root, Dictionary<string, int> byContent)
    {
        var configPath = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!, "tokenizer_config.json");
        string? bos = null, eos = null, pad = null;
        var fromConfig = false;
        if (File.Exists(configPath))
        {
            try
            {
                using var config = JsonDocument.Parse(File.ReadAllBytes(configPath));
                if (config.RootElement.ValueKind == JsonValueKind.Object)
                {
                    fromConfig = true;
                    bos = TokenText(config.RootElement, "bos_token");
                    eos = TokenText(config.RootElement, "eos_token");
                    pad = TokenText(config.RootElement, "pad_token");
                }
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"'{configPath}' is not valid JSON: {e.Message}", e);
            }
        }
        if (!fromConfig)
        {
            // By name only among the added tokens: a byte-level vocabulary can hold "<s>" as ordinary text.
            var added = AddedTokens.Select(t => t.Content).ToHashSet(StringComparer.Ordinal);
            bos = TemplateFirstSpecial(root) ?? First(added, "<s>", "<|begin_of_text|>", "<bos>", "<|startoftext|>");
            eos = First(added, "</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>");
            pad = First(added, "<pad>", "<|pad|>");
        }
        BosId = bos is not null && byContent.TryGetValue(bos, out var b) ? b : -1;
        EosId = eos is not null && byContent.TryGetValue(eos, out var e2) ? e2 : -1;
        PadId = pad is not null && byContent.TryGetValue(pad, out var p) ? p : -1;
    }

    private static string? TokenText(JsonElement config, string name)
    {
        if (!config.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Object when v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
            _ => null,
        };
    }

    private static string? First(HashSet<string> added, params string[] names) => names.FirstOrDefault(added.Contains);

    private static string? TemplateFirstSpecial(JsonElement root)
    {
        if (!root.TryGetProperty("post_processor", out var post)) return null;
        return Find(post);

        static string? Find(JsonElement e)
        {
            if (e.ValueKind != JsonValueKind.Object) return null;
            if (e.TryGetProperty("type", out var t) && t.GetString() == "TemplateProcessing"
                && e.TryGetProperty("single", out var single) && single.ValueKind == JsonValueKind.Array)
            {
                foreach (var piece in single.EnumerateArray())
                {
                    if (piece.TryGetProperty("Sequence", out _)) return null; // nothing before the text
                    if (piece.TryGetProperty("SpecialToken", out var st) && st.TryGetProperty("id", out var id)) return id.GetString();
                }
                return null;
            }
            if (e.TryGetProperty("processors", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var p in list.EnumerateArray())
                {
                    if (Find(p) is { } found) return found;
                }
            }
            return null;
        }
    }
}
