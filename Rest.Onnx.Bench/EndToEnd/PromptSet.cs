using System.Text.Json;

namespace Rest.Onnx.Bench.EndToEnd;

/// <summary>Prompts from a JSONL file: one object per line with a <c>prompt</c> string (other fields are kept as the label).</summary>
internal static class PromptSet
{
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A line is not an object with a string <c>prompt</c> field (line number named).</exception>
    public static IReadOnlyList<(string Label, string Prompt)> Load(string path, int count)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Prompts file '{path}' does not exist.", path);
        var prompts = new List<(string, string)>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind != JsonValueKind.Object
                    || !doc.RootElement.TryGetProperty("prompt", out var prompt) || prompt.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"{path}:{lineNumber}: expected an object with a string \"prompt\" field.");
                var label = Label(doc.RootElement, prompts.Count);
                prompts.Add((label, prompt.GetString()!));
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: not valid JSON ({e.Message}).", e);
            }
            if (count > 0 && prompts.Count == count) break;
        }
        if (prompts.Count == 0) throw new InvalidDataException($"Prompts file '{path}' has no prompts.");
        return prompts;
    }

    // "source" may be a string or {"file", "line"}; without it the prompt's index labels it.
    private static string Label(JsonElement root, int index)
    {
        if (!root.TryGetProperty("source", out var source)) return $"#{index}";
        if (source.ValueKind == JsonValueKind.String) return source.GetString()!;
        if (source.ValueKind == JsonValueKind.Object && source.TryGetProperty("file", out var file))
            return source.TryGetProperty("line", out var line) ? $"{file}:{line}" : file.ToString();
        return $"#{index}";
    }
}
