using System.Text.RegularExpressions;

namespace Rest.Onnx.DemoModel.Corpus;

/// <summary>
/// Finds <c>def</c> statements followed directly by a docstring and cuts them out as prompts; the model
/// then has to write the body. Deterministic: candidates in file order, then an even spread.
/// </summary>
public static partial class DevPromptExtractor
{
    /// <summary>Longest signature, in lines, that is still taken as a prompt.</summary>
    private const int MaxSignatureLines = 6;

    /// <summary>Longest docstring, in lines.</summary>
    private const int MaxDocstringLines = 24;

    [GeneratedRegex(@"^[ \t]*(async[ \t]+)?def[ \t]+\w+[ \t]*\(")]
    private static partial Regex DefLine();

    /// <summary>All signature+docstring prompts in one file's text, in order.</summary>
    public static IEnumerable<DevPrompt> Extract(string text, string file)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (!DefLine().IsMatch(lines[i])) continue;
            // The signature ends at the first line ending with ':' (multi-line parameter lists allowed).
            var end = i;
            while (end < lines.Length && end - i < MaxSignatureLines && !lines[end].TrimEnd().EndsWith(':')) end++;
            if (end >= lines.Length || end - i >= MaxSignatureLines) continue;
            var docStart = end + 1;
            if (docStart >= lines.Length) continue;
            var first = lines[docStart].TrimStart();
            var quote = first.StartsWith("\"\"\"", StringComparison.Ordinal) || first.StartsWith("r\"\"\"", StringComparison.Ordinal) ? "\"\"\""
                : first.StartsWith("'''", StringComparison.Ordinal) || first.StartsWith("r'''", StringComparison.Ordinal) ? "'''"
                : null;
            if (quote is null) continue;
            var afterOpen = first[(first.IndexOf(quote, StringComparison.Ordinal) + 3)..];
            var docEnd = docStart;
            if (!afterOpen.Contains(quote, StringComparison.Ordinal))
            {
                docEnd++;
                while (docEnd < lines.Length && docEnd - docStart < MaxDocstringLines && !lines[docEnd].Contains(quote, StringComparison.Ordinal)) docEnd++;
                if (docEnd >= lines.Length || docEnd - docStart >= MaxDocstringLines) continue;
            }
            // Only a body that follows makes a prompt worth continuing.
            if (docEnd + 1 >= lines.Length || lines[docEnd + 1].Trim().Length == 0) continue;
            var prompt = string.Join('\n', lines[i..(docEnd + 1)]) + "\n";
            yield return new DevPrompt(prompt, file, i + 1);
            i = docEnd;
        }
    }

    /// <summary>Picks <paramref name="count"/> candidates evenly spread over the list (all when fewer).</summary>
    public static IReadOnlyList<DevPrompt> SelectEvenly(IReadOnlyList<DevPrompt> candidates, int count)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (candidates.Count <= count) return candidates;
        var selected = new DevPrompt[count];
        for (var k = 0; k < count; k++) selected[k] = candidates[(int)((long)k * candidates.Count / count)];
        return selected;
    }
}
