using System.Globalization;
using System.Text;

namespace Rest.Onnx.Chat.Jinja;

internal enum TokenKind
{
    Text,
    OpenExpression,   // {{
    CloseExpression,  // }}
    OpenStatement,    // {%
    CloseStatement,   // %}
    Name,
    String,
    Integer,
    Float,
    Operator,         // punctuation and operators: . , : | ( ) [ ] { } + - * / // % ** ~ == != < > <= >= =
    End,
}

internal readonly record struct Token(TokenKind Kind, string Value, int Line);

/// <summary>
/// Splits a template into text and tag tokens. Applies Jinja's whitespace rules as Hugging Face's environment sets
/// them: <c>trim_blocks</c> (the newline right after a block or comment tag is dropped), <c>lstrip_blocks</c>
/// (spaces and tabs before a block or comment tag at the start of a line are dropped), <c>-</c> markers (all
/// whitespace on that side is dropped), and one trailing newline of the template is dropped
/// (<c>keep_trailing_newline=False</c>). Line numbers refer to the template as given.
/// </summary>
internal static class Lexer
{
    private static readonly string[] Operators = ["**", "//", "==", "!=", "<=", ">=", ".", ",", ":", "|", "(", ")", "[", "]", "{", "}", "+", "-", "*", "/", "%", "~", "<", ">", "="];

    public static List<Token> Tokenize(string source)
    {
        if (source.EndsWith('\n')) source = source[..^1];
        var tokens = new List<Token>();
        var pos = 0;
        var line = 1;
        var stripNextLeading = false;   // a "-" closed the previous tag
        var trimNextNewline = false;    // a block or comment tag closed: trim_blocks
        while (pos < source.Length)
        {
            var open = FindTagStart(source, pos);
            var textEnd = open < 0 ? source.Length : open;
            var text = source[pos..textEnd];
            var textLine = line;
            line += Count(text, '\n');
            if (trimNextNewline && text.StartsWith('\n')) { text = text[1..]; textLine++; }
            if (stripNextLeading)
            {
                var trimmed = text.TrimStart();
                textLine += Count(text.AsSpan(0, text.Length - trimmed.Length), '\n');
                text = trimmed;
            }
            if (open >= 0)
            {
                var kind = source[open + 1];
                var stripBefore = open + 2 < source.Length && source[open + 2] == '-';
                if (stripBefore) text = text.TrimEnd();
                else if (kind != '{' && StartsLine(source, open)) text = text.TrimEnd(' ', '\t');
            }
            if (text.Length > 0) tokens.Add(new Token(TokenKind.Text, text, textLine));
            if (open < 0) break;

            var tagKind = source[open + 1];
            var tagLine = line;
            pos = open + 2;
            if (pos < source.Length && (source[pos] == '-' || source[pos] == '+')) pos++;
            if (tagKind == '#')
            {
                var close = source.IndexOf("#}", pos, StringComparison.Ordinal);
                if (close < 0) throw new ChatTemplateException("unclosed comment '{#'", tagLine);
                stripNextLeading = source[close - 1] == '-' && close - 1 >= pos;
                line += Count(source.AsSpan(pos, close - pos), '\n');
                pos = close + 2;
                trimNextNewline = true;
                continue;
            }
            tokens.Add(new Token(tagKind == '{' ? TokenKind.OpenExpression : TokenKind.OpenStatement, tagKind == '{' ? "{{" : "{%", tagLine));
            var closer = tagKind == '{' ? '}' : '%';
            var braceDepth = 0;
            while (true)
            {
                while (pos < source.Length && char.IsWhiteSpace(source[pos]))
                {
                    if (source[pos] == '\n') line++;
                    pos++;
                }
                if (pos >= source.Length) throw new ChatTemplateException($"unclosed tag '{{{tagKind}'", tagLine);
                var c = source[pos];
                // Closing marker, optionally preceded by '-': "-}}", "}}", "-%}", "%}".
                if (braceDepth == 0 && (c == closer || c == '-' || c == '+') && IsClose(source, pos, closer, out var markerLength, out var stripAfter))
                {
                    tokens.Add(new Token(tagKind == '{' ? TokenKind.CloseExpression : TokenKind.CloseStatement, tagKind == '{' ? "}}" : "%}", line));
                    pos += markerLength;
                    stripNextLeading = stripAfter;
                    trimNextNewline = tagKind == '%';
                    break;
                }
                if (c == '\'' || c == '"')
                {
                    var startLine = line;
                    tokens.Add(new Token(TokenKind.String, ReadString(source, ref pos, ref line), startLine));
                    continue;
                }
                if (char.IsAsciiDigit(c))
                {
                    var start = pos;
                    while (pos < source.Length && (char.IsAsciiDigit(source[pos]) || source[pos] == '_')) pos++;
                    var isFloat = false;
                    if (pos + 1 < source.Length && source[pos] == '.' && char.IsAsciiDigit(source[pos + 1]))
                    {
                        isFloat = true;
                        pos++;
                        while (pos < source.Length && char.IsAsciiDigit(source[pos])) pos++;
                    }
                    tokens.Add(new Token(isFloat ? TokenKind.Float : TokenKind.Integer, source[start..pos].Replace("_", "", StringComparison.Ordinal), line));
                    continue;
                }
                if (char.IsLetter(c) || c == '_')
                {
                    var start = pos;
                    while (pos < source.Length && (char.IsLetterOrDigit(source[pos]) || source[pos] == '_')) pos++;
                    tokens.Add(new Token(TokenKind.Name, source[start..pos], line));
                    continue;
                }
                var op = Array.Find(Operators, o => string.CompareOrdinal(source, pos, o, 0, o.Length) == 0)
                    ?? throw new ChatTemplateException($"unexpected character '{c}'", line);
                if (op is "{" or "[" or "(") braceDepth++;
                else if (op is "}" or "]" or ")") braceDepth = Math.Max(0, braceDepth - 1);
                tokens.Add(new Token(TokenKind.Operator, op, line));
                pos += op.Length;
            }
        }
        tokens.Add(new Token(TokenKind.End, "", line));
        return tokens;
    }

    private static int FindTagStart(string source, int from)
    {
        for (var i = from; i + 1 < source.Length; i++)
        {
            if (source[i] == '{' && source[i + 1] is '{' or '%' or '#') return i;
        }
        return -1;
    }

    /// <summary>lstrip_blocks: only spaces or tabs lie between the line start and the tag.</summary>
    private static bool StartsLine(string source, int open)
    {
        var i = open - 1;
        while (i >= 0 && source[i] is ' ' or '\t') i--;
        return i < 0 || source[i] == '\n';
    }

    private static bool IsClose(string source, int pos, char closer, out int length, out bool stripAfter)
    {
        stripAfter = false;
        length = 0;
        var i = pos;
        if (source[i] is '-' or '+')
        {
            stripAfter = source[i] == '-';
            i++;
        }
        if (i + 1 < source.Length && source[i] == closer && source[i + 1] == '}')
        {
            length = i + 2 - pos;
            return true;
        }
        stripAfter = false;
        return false;
    }

    private static string ReadString(string source, ref int pos, ref int line)
    {
        var quote = source[pos++];
        var sb = new StringBuilder();
        var startLine = line;
        while (true)
        {
            if (pos >= source.Length) throw new ChatTemplateException("unterminated string literal", startLine);
            var c = source[pos++];
            if (c == quote) return sb.ToString();
            if (c == '\n') line++;
            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }
            if (pos >= source.Length) throw new ChatTemplateException("unterminated string literal", startLine);
            var e = source[pos++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'v': sb.Append('\v'); break;
                case '0': sb.Append('\0'); break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case '\n': line++; break;
                case 'x' or 'u' or 'U':
                    var digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    if (pos + digits > source.Length || !int.TryParse(source.AsSpan(pos, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code))
                        throw new ChatTemplateException($"invalid escape '\\{e}' in string literal", line);
                    sb.Append(char.ConvertFromUtf32(code));
                    pos += digits;
                    break;
                default:
                    // Python keeps unknown escapes as written.
                    sb.Append('\\').Append(e);
                    break;
            }
        }
    }

    private static int Count(ReadOnlySpan<char> text, char c)
    {
        var n = 0;
        foreach (var x in text) if (x == c) n++;
        return n;
    }
}
