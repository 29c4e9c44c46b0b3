using System.Globalization;
using System.Runtime.CompilerServices;

namespace Rest.Onnx.Chat.Jinja;

/// <summary>
/// Recursive-descent parser from tokens to the node tree, with Jinja's precedence: conditional, or, and, not,
/// comparisons (including <c>in</c>/<c>not in</c>), + and -, ~, * / // %, **, unary minus, then postfix
/// (attribute, subscript, slice, call), filters and tests, which bind tightest.
/// </summary>
internal sealed class Parser
{
    private static readonly HashSet<string> Unsupported = ["macro", "call", "filter", "block", "extends", "include", "import", "from", "raw", "with", "autoescape", "do", "endmacro"];

    private readonly List<Token> _tokens;
    private int _pos;

    private Parser(List<Token> tokens) => _tokens = tokens;

    public static List<Node> Parse(List<Token> tokens)
    {
        var parser = new Parser(tokens);
        var body = parser.ParseBlock(out var end);
        if (end is not null) throw new ChatTemplateException($"unexpected '{{% {end.Value.Value} %}}'", end.Value.Line);
        return body;
    }

    private Token Current => _tokens[_pos];

    private Token Next() => _tokens[_pos++];

    /// <summary>Parses nodes up to the end or a block keyword that belongs to an enclosing statement (returned, not consumed beyond its name).</summary>
    private List<Node> ParseBlock(out Token? endKeyword, params string[] stops)
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        var nodes = new List<Node>();
        while (true)
        {
            var token = Current;
            switch (token.Kind)
            {
                case TokenKind.End:
                    endKeyword = null;
                    return nodes;
                case TokenKind.Text:
                    _pos++;
                    nodes.Add(new TextNode(token.Value, token.Line));
                    break;
                case TokenKind.OpenExpression:
                    _pos++;
                    var value = ParseExpression();
                    Expect(TokenKind.CloseExpression, "'}}'");
                    nodes.Add(new OutputNode(value, token.Line));
                    break;
                case TokenKind.OpenStatement:
                    _pos++;
                    var keyword = Current;
                    if (keyword.Kind != TokenKind.Name) throw new ChatTemplateException("expected a statement name after '{%'", keyword.Line);
                    if (Array.IndexOf(stops, keyword.Value) >= 0)
                    {
                        _pos++;
                        endKeyword = keyword;
                        return nodes;
                    }
                    if (keyword.Value.StartsWith("end", StringComparison.Ordinal) || keyword.Value is "elif" or "else")
                    {
                        if (keyword.Value is "endgeneration") { _pos++; Expect(TokenKind.CloseStatement, "'%}'"); break; }
                        throw new ChatTemplateException($"unexpected '{keyword.Value}'", keyword.Line);
                    }
                    if (ParseStatement() is { } statement) nodes.Add(statement);
                    break;
                default:
                    throw new ChatTemplateException($"unexpected '{token.Value}'", token.Line);
            }
        }
    }

    private Node? ParseStatement()
    {
        var keyword = Next();
        var line = keyword.Line;
        switch (keyword.Value)
        {
            case "if":
                return ParseIf(line);
            case "for":
            {
                var target = ParseTarget();
                ExpectName("in");
                var iterable = ParseOr();   // no conditional here: 'if' introduces the loop filter
                Expr? filter = null;
                if (AcceptName("if")) filter = ParseExpression();
                if (AcceptName("recursive")) throw new ChatTemplateException("unsupported construct 'for ... recursive'", line);
                Expect(TokenKind.CloseStatement, "'%}'");
                var body = ParseBlock(out var end, "else", "endfor");
                var otherwise = new List<Node>();
                if (end is null) throw new ChatTemplateException("'for' is never closed with 'endfor'", line);
                if (end.Value.Value == "else")
                {
                    Expect(TokenKind.CloseStatement, "'%}'");
                    otherwise = ParseBlock(out end, "endfor");
                    if (end is null) throw new ChatTemplateException("'for' is never closed with 'endfor'", line);
                }
                Expect(TokenKind.CloseStatement, "'%}'");
                return new ForNode(target, iterable, filter, body, otherwise, line);
            }
            case "set":
            {
                var target = ParseTarget();
                if (Current.Kind == TokenKind.Operator && Current.Value == "=")
                {
                    _pos++;
                    var value = ParseTupleOrExpression();
                    Expect(TokenKind.CloseStatement, "'%}'");
                    return new SetNode(target, value, null, line);
                }
                if (Current.Kind == TokenKind.Operator && Current.Value == "|") throw new ChatTemplateException("unsupported construct 'set' block with filter", line);
                Expect(TokenKind.CloseStatement, "'%}'");
                var body = ParseBlock(out var end, "endset");
                if (end is null) throw new ChatTemplateException("'set' block is never closed with 'endset'", line);
                Expect(TokenKind.CloseStatement, "'%}'");
                return new SetNode(target, null, body, line);
            }
            case "break":
                Expect(TokenKind.CloseStatement, "'%}'");
                return new BreakNode(line);
            case "continue":
                Expect(TokenKind.CloseStatement, "'%}'");
                return new ContinueNode(line);
            case "generation":
                // Hugging Face's marker for assistant-token masks: renders nothing.
                Expect(TokenKind.CloseStatement, "'%}'");
                return null;
            default:
                if (Unsupported.Contains(keyword.Value)) throw new ChatTemplateException($"unsupported construct '{keyword.Value}'", line);
                throw new ChatTemplateException($"unknown statement '{keyword.Value}'", line);
        }
    }

    private IfNode ParseIf(int line)
    {
        var test = ParseExpression();
        Expect(TokenKind.CloseStatement, "'%}'");
        var body = ParseBlock(out var end, "elif", "else", "endif");
        if (end is null) throw new ChatTemplateException("'if' is never closed with 'endif'", line);
        var otherwise = new List<Node>();
        switch (end.Value.Value)
        {
            case "elif":
                otherwise.Add(ParseIf(end.Value.Line));
                return new IfNode(test, body, otherwise, line);
            case "else":
                Expect(TokenKind.CloseStatement, "'%}'");
                otherwise = ParseBlock(out end, "endif");
                if (end is null) throw new ChatTemplateException("'if' is never closed with 'endif'", line);
                break;
        }
        Expect(TokenKind.CloseStatement, "'%}'");
        return new IfNode(test, body, otherwise, line);
    }

    /// <summary>An assignment or loop target: a name, ns.attr, or names separated by commas.</summary>
    private Expr ParseTarget()
    {
        var first = ParseTargetItem();
        if (!IsOperator(",")) return first;
        var items = new List<Expr> { first };
        while (AcceptOperator(",")) items.Add(ParseTargetItem());
        return new ListExpr(items, true, first.Line);
    }

    private Expr ParseTargetItem()
    {
        var name = Next();
        if (name.Kind != TokenKind.Name) throw new ChatTemplateException($"expected a variable name, got '{name.Value}'", name.Line);
        Expr target = new NameExpr(name.Value, name.Line);
        if (AcceptOperator("."))
        {
            var attribute = Next();
            if (attribute.Kind != TokenKind.Name) throw new ChatTemplateException("expected an attribute name after '.'", attribute.Line);
            target = new AttributeExpr(target, attribute.Value, name.Line);
        }
        return target;
    }

    private Expr ParseTupleOrExpression()
    {
        var first = ParseExpression();
        if (!IsOperator(",")) return first;
        var items = new List<Expr> { first };
        while (AcceptOperator(","))
        {
            if (IsClosing()) break;
            items.Add(ParseExpression());
        }
        return new ListExpr(items, true, first.Line);
    }

    public Expr ParseExpression()
    {
        var expr = ParseOr();
        while (IsName("if"))
        {
            var line = Next().Line;
            var test = ParseOr();
            Expr? otherwise = null;
            if (AcceptName("else")) otherwise = ParseExpression();
            expr = new ConditionalExpr(test, expr, otherwise, line);
        }
        return expr;
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (IsName("or")) left = new BinaryExpr("or", left, Rhs(ParseAnd), left.Line);
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (IsName("and")) left = new BinaryExpr("and", left, Rhs(ParseNot), left.Line);
        return left;
    }

    private Expr ParseNot()
    {
        if (IsName("not"))
        {
            var line = Next().Line;
            return new UnaryExpr("not", ParseNot(), line);
        }
        return ParseCompare();
    }

    private Expr ParseCompare()
    {
        var left = ParseAdditive();
        while (true)
        {
            string op;
            if (Current.Kind == TokenKind.Operator && Current.Value is "==" or "!=" or "<" or ">" or "<=" or ">=") op = Next().Value;
            else if (IsName("in")) { _pos++; op = "in"; }
            else if (IsName("not") && _tokens[_pos + 1] is { Kind: TokenKind.Name, Value: "in" }) { _pos += 2; op = "not in"; }
            else return left;
            left = new BinaryExpr(op, left, ParseAdditive(), left.Line);
        }
    }

    private Expr ParseAdditive()
    {
        var left = ParseConcat();
        while (Current.Kind == TokenKind.Operator && Current.Value is "+" or "-")
            left = new BinaryExpr(Next().Value, left, ParseConcat(), left.Line);
        return left;
    }

    private Expr ParseConcat()
    {
        var left = ParseMultiplicative();
        while (AcceptOperator("~")) left = new BinaryExpr("~", left, ParseMultiplicative(), left.Line);
        return left;
    }

    private Expr ParseMultiplicative()
    {
        var left = ParsePower();
        while (Current.Kind == TokenKind.Operator && Current.Value is "*" or "/" or "//" or "%")
            left = new BinaryExpr(Next().Value, left, ParsePower(), left.Line);
        return left;
    }

    private Expr ParsePower()
    {
        var left = ParseUnary();
        while (AcceptOperator("**")) left = new BinaryExpr("**", left, ParseUnary(), left.Line);
        return left;
    }

    private Expr ParseUnary()
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();   // hostile nesting: a clear error, not a crash
        if (Current.Kind == TokenKind.Operator && Current.Value is "-" or "+")
        {
            var op = Next();
            return ParseFilters(new UnaryExpr(op.Value, ParseUnaryNoFilter(), op.Line));
        }
        return ParseFilters(ParsePostfix(ParsePrimary()));
    }

    private Expr ParseUnaryNoFilter()
    {
        if (Current.Kind == TokenKind.Operator && Current.Value is "-" or "+")
        {
            var op = Next();
            return new UnaryExpr(op.Value, ParseUnaryNoFilter(), op.Line);
        }
        return ParsePostfix(ParsePrimary());
    }

    private Expr ParsePrimary()
    {
        var token = Next();
        switch (token.Kind)
        {
            case TokenKind.String:
            {
                var text = token.Value;
                while (Current.Kind == TokenKind.String) text += Next().Value;   // adjacent literals concatenate
                return new LiteralExpr(text, token.Line);
            }
            case TokenKind.Integer:
                return new LiteralExpr(long.Parse(token.Value, CultureInfo.InvariantCulture), token.Line);
            case TokenKind.Float:
                return new LiteralExpr(double.Parse(token.Value, CultureInfo.InvariantCulture), token.Line);
            case TokenKind.Name:
                return token.Value switch
                {
                    "true" or "True" => new LiteralExpr(true, token.Line),
                    "false" or "False" => new LiteralExpr(false, token.Line),
                    "none" or "None" => new LiteralExpr(null, token.Line),
                    _ => new NameExpr(token.Value, token.Line),
                };
            case TokenKind.Operator when token.Value == "(":
            {
                if (AcceptOperator(")")) return new ListExpr([], true, token.Line);
                var first = ParseExpression();
                if (AcceptOperator(")")) return first;
                var items = new List<Expr> { first };
                while (AcceptOperator(","))
                {
                    if (IsOperator(")")) break;
                    items.Add(ParseExpression());
                }
                ExpectOperator(")");
                return new ListExpr(items, true, token.Line);
            }
            case TokenKind.Operator when token.Value == "[":
            {
                var items = new List<Expr>();
                while (!IsOperator("]"))
                {
                    items.Add(ParseExpression());
                    if (!AcceptOperator(",")) break;
                }
                ExpectOperator("]");
                return new ListExpr(items, false, token.Line);
            }
            case TokenKind.Operator when token.Value == "{":
            {
                var items = new List<(Expr, Expr)>();
                while (!IsOperator("}"))
                {
                    var key = ParseExpression();
                    ExpectOperator(":");
                    items.Add((key, ParseExpression()));
                    if (!AcceptOperator(",")) break;
                }
                ExpectOperator("}");
                return new DictExpr(items, token.Line);
            }
            default:
                throw new ChatTemplateException(token.Kind == TokenKind.End ? "unexpected end of template" : $"unexpected '{token.Value}' in an expression", token.Line);
        }
    }

    private Expr ParsePostfix(Expr expr)
    {
        while (true)
        {
            if (AcceptOperator("."))
            {
                var name = Next();
                if (name.Kind == TokenKind.Name) expr = new AttributeExpr(expr, name.Value, name.Line);
                else if (name.Kind == TokenKind.Integer) expr = new IndexExpr(expr, new LiteralExpr(long.Parse(name.Value, CultureInfo.InvariantCulture), name.Line), name.Line);
                else throw new ChatTemplateException("expected an attribute name after '.'", name.Line);
            }
            else if (IsOperator("["))
            {
                var line = Next().Line;
                Expr? start = null, stop = null, step = null;
                var isSlice = false;
                if (!IsOperator(":")) start = ParseExpression();
                if (AcceptOperator(":"))
                {
                    isSlice = true;
                    if (!IsOperator(":") && !IsOperator("]")) stop = ParseExpression();
                    if (AcceptOperator(":") && !IsOperator("]")) step = ParseExpression();
                }
                ExpectOperator("]");
                expr = isSlice ? new SliceExpr(expr, start, stop, step, line) : new IndexExpr(expr, start!, line);
            }
            else if (IsOperator("("))
            {
                var (args, kwargs) = ParseArguments();
                expr = new CallExpr(expr, args, kwargs, expr.Line);
            }
            else
            {
                return expr;
            }
        }
    }

    private Expr ParseFilters(Expr expr)
    {
        while (true)
        {
            if (AcceptOperator("|"))
            {
                var name = Next();
                if (name.Kind != TokenKind.Name) throw new ChatTemplateException("expected a filter name after '|'", name.Line);
                var qualified = name.Value;
                while (AcceptOperator(".")) qualified += "." + Next().Value;
                List<Expr> args = [];
                List<(string, Expr)> kwargs = [];
                if (IsOperator("(")) (args, kwargs) = ParseArguments();
                expr = new FilterExpr(expr, qualified, args, kwargs, name.Line);
            }
            else if (IsName("is"))
            {
                var line = Next().Line;
                var negated = AcceptName("not");
                var name = Next();
                if (name.Kind != TokenKind.Name) throw new ChatTemplateException("expected a test name after 'is'", name.Line);
                var testName = name.Value;
                List<Expr> args = [];
                if (IsOperator("("))
                {
                    (args, _) = ParseArguments();
                }
                else if (Current.Kind is TokenKind.String or TokenKind.Integer or TokenKind.Float
                         || (Current.Kind == TokenKind.Name && Current.Value is not ("else" or "or" or "and" or "if" or "is" or "not" or "in"))
                         || IsOperator("[") || IsOperator("{"))
                {
                    args.Add(ParsePostfix(ParsePrimary()));
                }
                expr = new TestExpr(expr, testName, args, negated, line);
            }
            else if (IsOperator("("))
            {
                var (args, kwargs) = ParseArguments();
                expr = new CallExpr(expr, args, kwargs, expr.Line);
            }
            else
            {
                return expr;
            }
        }
    }

    private (List<Expr> Args, List<(string, Expr)> Kwargs) ParseArguments()
    {
        ExpectOperator("(");
        var args = new List<Expr>();
        var kwargs = new List<(string, Expr)>();
        while (!IsOperator(")"))
        {
            if (Current.Kind == TokenKind.Name && _tokens[_pos + 1] is { Kind: TokenKind.Operator, Value: "=" })
            {
                var name = Next().Value;
                _pos++;
                kwargs.Add((name, ParseExpression()));
            }
            else
            {
                if (IsOperator("*")) throw new ChatTemplateException("unsupported construct '*args' in a call", Current.Line);
                args.Add(ParseExpression());
            }
            if (!AcceptOperator(",")) break;
        }
        ExpectOperator(")");
        return (args, kwargs);
    }

    private Expr Rhs(Func<Expr> parse)
    {
        _pos++;
        return parse();
    }

    private bool IsClosing() => Current.Kind is TokenKind.CloseStatement or TokenKind.CloseExpression;

    private bool IsName(string name) => Current.Kind == TokenKind.Name && Current.Value == name;

    private bool IsOperator(string op) => Current.Kind == TokenKind.Operator && Current.Value == op;

    private bool AcceptName(string name)
    {
        if (!IsName(name)) return false;
        _pos++;
        return true;
    }

    private bool AcceptOperator(string op)
    {
        if (!IsOperator(op)) return false;
        _pos++;
        return true;
    }

    private void ExpectName(string name)
    {
        if (!AcceptName(name)) throw new ChatTemplateException($"expected '{name}', got '{Current.Value}'", Current.Line);
    }

    private void ExpectOperator(string op)
    {
        if (!AcceptOperator(op)) throw new ChatTemplateException(Current.Kind == TokenKind.End ? $"expected '{op}' before the end of the template" : $"expected '{op}', got '{Current.Value}'", Current.Line);
    }

    private void Expect(TokenKind kind, string what)
    {
        if (Current.Kind != kind) throw new ChatTemplateException(Current.Kind == TokenKind.End ? $"expected {what} before the end of the template" : $"expected {what}, got '{Current.Value}'", Current.Line);
        _pos++;
    }
}
