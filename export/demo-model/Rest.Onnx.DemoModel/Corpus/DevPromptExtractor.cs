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
    /// <param name="text">The file's text.</param>
    /// <param name="file">Relative path, for the prompt's source.</param>
    /// <param name="requireDocstring">
    /// When false, a def whose body starts without a docstring also gives a prompt: its signature alone
    /// (<see cref="DevPrompt.HasDocstring"/> false).
    /// </param>
    public static IEnumerable<DevPrompt> Extract(string text, string file, bool requireDocstring = true)
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
            if (quote is null)
            {
                // Signature only: the body must start right after it (not a blank line, not the end of the file).
                if (!requireDocstring && first.Length > 0) yield return new DevPrompt(string.Join('\n', lines[i..docStart]) + "\n", file, i + 1, HasDocstring: false);
                continue;
            }
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

    /// <summary>
    /// Context prompts: for each signature+docstring prompt of <see cref="Extract"/>, the same text preceded by as many
    /// whole preceding blocks of the same scope (functions or classes with their decorators, and what lies between
    /// them: blank lines, comments, assignments) as fit in <paramref name="maxTokens"/>, at least one. The prompt starts
    /// at the first line of the earliest block taken and ends, like the short prompt, with the docstring's closing line.
    /// A def with no complete preceding block in its scope (the first method of a class, the first function of a
    /// module) gives none.
    /// </summary>
    /// <param name="text">The file's text.</param>
    /// <param name="file">Relative path, for the prompt's source.</param>
    /// <param name="countTokens">The model's token count of a text.</param>
    /// <param name="maxTokens">Longest context prompt in tokens.</param>
    /// <param name="requireDocstring">When false, defs without a docstring are targets too (see <see cref="Extract"/>).</param>
    public static IEnumerable<ContextDevPrompt> ExtractWithContext(string text, string file, Func<string, int> countTokens, int maxTokens, bool requireDocstring = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(countTokens);
        var lines = text.Split('\n');
        foreach (var target in Extract(text, file, requireDocstring))
        {
            var def = target.Line - 1;
            var indent = Indentation(lines[def]);
            // The target's own decorators belong to it, not to the context.
            var start = def;
            while (start > 0 && IsBlockStart(lines[start - 1], indent) && lines[start - 1].AsSpan(indent.Length).StartsWith("@")) start--;
            var best = -1;
            var blocks = 0;
            for (var k = start - 1; k >= 0; k--)
            {
                var line = lines[k];
                if (line.Trim().Length == 0) continue;
                // Leaving the enclosing scope (a line indented less than the def) ends the search.
                if (Indentation(line).Length < indent.Length) break;
                if (!IsBlockStart(line, indent) || (k > 0 && IsBlockStart(lines[k - 1], indent) && lines[k - 1].AsSpan(indent.Length).StartsWith("@"))) continue;
                if (countTokens(string.Join('\n', lines[k..def]) + "\n" + target.Prompt) > maxTokens) break;
                best = k;
                blocks++;
            }
            if (best < 0) continue;
            var prompt = string.Join('\n', lines[best..def]) + "\n" + target.Prompt;
            yield return new ContextDevPrompt(prompt, file, best + 1, target.Line, blocks, target.HasDocstring);
        }
    }

    // A def, async def, class or decorator at exactly this indentation.
    private static bool IsBlockStart(string line, string indent)
    {
        if (!line.StartsWith(indent, StringComparison.Ordinal) || line.Length == indent.Length) return false;
        var rest = line.AsSpan(indent.Length);
        return rest.StartsWith("def ") || rest.StartsWith("async def ") || rest.StartsWith("class ") || rest.StartsWith("@");
    }

    private static string Indentation(string line) => line[..(line.Length - line.TrimStart(' ', '\t').Length)];

    /// <summary>Picks <paramref name="count"/> candidates evenly spread over the list (all when fewer).</summary>
    public static IReadOnlyList<T> SelectEvenly<T>(IReadOnlyList<T> candidates, int count)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (candidates.Count <= count) return candidates;
        var selected = new T[count];
        for (var k = 0; k < count; k++) selected[k] = candidates[(int)((long)k * candidates.Count / count)];
        return selected;
    }
}
