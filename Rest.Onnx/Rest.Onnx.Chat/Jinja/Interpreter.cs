using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Rest.Onnx.Chat.Jinja;

/// <summary>Evaluates a parsed template against variables into text.</summary>
internal sealed partial class Interpreter
{
    private enum Flow { Normal, Break, Continue }

    private sealed class Scope(Scope? parent)
    {
        private readonly Dictionary<string, object?> _variables = new(StringComparer.Ordinal);

        public object? Lookup(string name)
        {
            for (var scope = this; scope is not null; scope = scope.Parent)
            {
                if (scope._variables.TryGetValue(name, out var value)) return value;
            }
            return Undefined.Instance;
        }

        public void Set(string name, object? value) => _variables[name] = value;

        public Scope? Parent { get; } = parent;
    }

    /// <summary>Limits that keep a hostile template from exhausting memory.</summary>
    internal const int MaxStringLength = 10_000_000, MaxRangeLength = 1_000_000;

    private readonly Func<DateTime> _now;

    public Interpreter(Func<DateTime> now) => _now = now;

    public string Render(List<Node> template, IReadOnlyDictionary<string, object?> variables)
    {
        var globals = new Scope(null);
        AddGlobals(globals);
        var scope = new Scope(globals);
        foreach (var (name, value) in variables) scope.Set(name, Values.FromClr(value));
        var output = new StringBuilder();
        RenderBlock(template, scope, output);
        return output.ToString();
    }

    private Flow RenderBlock(List<Node> nodes, Scope scope, StringBuilder output)
    {
        foreach (var node in nodes)
        {
            var flow = RenderNode(node, scope, output);
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }

    private Flow RenderNode(Node node, Scope scope, StringBuilder output)
    {
        switch (node)
        {
            case TextNode text:
                output.Append(text.Text);
                return Flow.Normal;
            case OutputNode o:
                output.Append(Values.ToText(Evaluate(o.Value, scope)));
                return Flow.Normal;
            case IfNode i:
                return RenderBlock(Values.IsTrue(Evaluate(i.Test, scope)) ? i.Body : i.Else, scope, output);
            case ForNode f:
                RenderFor(f, scope, output);
                return Flow.Normal;
            case SetNode s:
                object? value;
                if (s.Value is not null)
                {
                    value = Evaluate(s.Value, scope);
                }
                else
                {
                    var captured = new StringBuilder();
                    RenderBlock(s.Body!, scope, captured);
                    value = captured.ToString();
                }
                Assign(s.Target, value, scope, s.Line);
                return Flow.Normal;
            case BreakNode:
                return Flow.Break;
            case ContinueNode:
                return Flow.Continue;
            default:
                throw new ChatTemplateException($"unsupported node {node.GetType().Name}", node.Line);
        }
    }

    private void Assign(Expr target, object? value, Scope scope, int line)
    {
        switch (target)
        {
            case NameExpr name:
                scope.Set(name.Name, value);
                break;
            case AttributeExpr { Target: NameExpr owner } attribute:
                if (scope.Lookup(owner.Name) is not Namespace ns)
                    throw new ChatTemplateException($"cannot assign attribute '{attribute.Name}' on '{owner.Name}', which is not a namespace()", line);
                ns.Values[attribute.Name] = value;
                break;
            case ListExpr { IsTuple: true } tuple:
                if (value is not List<object?> items) throw new ChatTemplateException($"cannot unpack {Values.TypeName(value)}", line);
                if (items.Count != tuple.Items.Count) throw new ChatTemplateException($"expected {tuple.Items.Count} values to unpack, got {items.Count}", line);
                for (var i = 0; i < items.Count; i++) Assign(tuple.Items[i], items[i], scope, line);
                break;
            default:
                throw new ChatTemplateException("invalid assignment target", line);
        }
    }

    private void RenderFor(ForNode node, Scope scope, StringBuilder output)
    {
        var iterable = Evaluate(node.Iterable, scope);
        var source = iterable switch
        {
            List<object?> list => list,
            OrderedDictionary<string, object?> dict => dict.Keys.Select(k => (object?)k).ToList(),
            string s => s.Select(c => (object?)c.ToString()).ToList(),
            Undefined => [],
            _ => throw new ChatTemplateException($"cannot loop over {Values.TypeName(iterable)}", node.Line),
        };
        var loopScope = new Scope(scope);
        var items = source;
        if (node.Filter is not null)
        {
            items = [];
            foreach (var item in source)
            {
                Assign(node.Target, item, loopScope, node.Line);
                if (Values.IsTrue(Evaluate(node.Filter, loopScope))) items.Add(item);
            }
        }
        if (items.Count == 0)
        {
            RenderBlock(node.Else, loopScope, output);
            return;
        }
        for (var i = 0; i < items.Count; i++)
        {
            var loop = new OrderedDictionary<string, object?>
            {
                ["index"] = (long)(i + 1),
                ["index0"] = (long)i,
                ["revindex"] = (long)(items.Count - i),
                ["revindex0"] = (long)(items.Count - i - 1),
                ["first"] = i == 0,
                ["last"] = i == items.Count - 1,
                ["length"] = (long)items.Count,
                ["previtem"] = i > 0 ? items[i - 1] : Undefined.Instance,
                ["nextitem"] = i < items.Count - 1 ? items[i + 1] : Undefined.Instance,
            };
            loopScope.Set("loop", loop);
            Assign(node.Target, items[i], loopScope, node.Line);
            if (RenderBlock(node.Body, loopScope, output) == Flow.Break) break;
        }
    }

    private object? Evaluate(Expr expr, Scope scope)
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        switch (expr)
        {
            case LiteralExpr l:
                return l.Value;
            case NameExpr n:
                return scope.Lookup(n.Name);
            case ListExpr list:
                return list.Items.Select(i => Evaluate(i, scope)).ToList();
            case DictExpr dict:
            {
                var result = new OrderedDictionary<string, object?>();
                foreach (var (k, v) in dict.Items)
                {
                    var key = Evaluate(k, scope);
                    if (key is not string s) throw new ChatTemplateException($"dictionary keys must be strings here, got {Values.TypeName(key)}", dict.Line);
                    result[s] = Evaluate(v, scope);
                }
                return result;
            }
            case AttributeExpr a:
                return GetAttribute(Evaluate(a.Target, scope), a.Name, a.Line);
            case IndexExpr i:
                return GetItem(Evaluate(i.Target, scope), Evaluate(i.Index, scope), i.Line);
            case SliceExpr s:
                return Slice(Evaluate(s.Target, scope), s.Start is null ? null : Evaluate(s.Start, scope), s.Stop is null ? null : Evaluate(s.Stop, scope), s.Step is null ? null : Evaluate(s.Step, scope), s.Line);
            case CallExpr c:
            {
                var callee = Evaluate(c.Callee, scope);
                if (callee is not Callable callable)
                    throw new ChatTemplateException($"'{Describe(c.Callee)}' is {(callee is Undefined ? "undefined" : Values.TypeName(callee))}, not a function", c.Line);
                var (args, kwargs) = EvaluateArguments(c.Args, c.Kwargs, scope);
                return callable.Invoke(args, kwargs, c.Line);
            }
            case FilterExpr f:
            {
                var (args, kwargs) = EvaluateArguments(f.Args, f.Kwargs, scope);
                return ApplyFilter(f.Name, Evaluate(f.Target, scope), args, kwargs, f.Line, scope);
            }
            case TestExpr t:
            {
                var args = t.Args.Select(a => Evaluate(a, scope)).ToList();
                var result = ApplyTest(t.Name, Evaluate(t.Target, scope), args, t.Line);
                return t.Negated ? !result : result;
            }
            case UnaryExpr u:
            {
                var operand = Evaluate(u.Operand, scope);
                return u.Op switch
                {
                    "not" => !Values.IsTrue(operand),
                    "-" => operand switch
                    {
                        long l => (object)-l,
                        double d => (object)-d,
                        bool b => (object)(b ? -1L : 0L),
                        _ => throw new ChatTemplateException($"cannot negate {Values.TypeName(operand)}", u.Line),
                    },
                    _ => operand,
                };
            }
            case BinaryExpr b:
                return EvaluateBinary(b, scope);
            case ConditionalExpr c:
                return Values.IsTrue(Evaluate(c.Test, scope)) ? Evaluate(c.Then, scope) : c.Else is null ? Undefined.Instance : Evaluate(c.Else, scope);
            default:
                throw new ChatTemplateException($"unsupported expression {expr.GetType().Name}", expr.Line);
        }
    }

    private (List<object?>, OrderedDictionary<string, object?>) EvaluateArguments(List<Expr> args, List<(string Name, Expr Value)> kwargs, Scope scope)
    {
        var values = args.Select(a => Evaluate(a, scope)).ToList();
        var named = new OrderedDictionary<string, object?>();
        foreach (var (name, value) in kwargs) named[name] = Evaluate(value, scope);
        return (values, named);
    }

    private static string Describe(Expr expr) => expr switch
    {
        NameExpr n => n.Name,
        AttributeExpr a => Describe(a.Target) + "." + a.Name,
        _ => "expression",
    };

    private object? EvaluateBinary(BinaryExpr b, Scope scope)
    {
        var left = Evaluate(b.Left, scope);
        if (b.Op == "and") return Values.IsTrue(left) ? Evaluate(b.Right, scope) : left;
        if (b.Op == "or") return Values.IsTrue(left) ? left : Evaluate(b.Right, scope);
        var right = Evaluate(b.Right, scope);
        switch (b.Op)
        {
            case "==": return Values.AreEqual(left, right);
            case "!=": return !Values.AreEqual(left, right);
            case "~": return Values.ToText(left) + Values.ToText(right);
            case "in": return Contains(right, left, b.Line);
            case "not in": return !Contains(right, left, b.Line);
        }
        if (left is Undefined || right is Undefined)
            throw new ChatTemplateException($"'{b.Op}' on an undefined value ({Describe(left is Undefined ? b.Left : b.Right)})", b.Line);
        if (Values.IsNumber(left) && Values.IsNumber(right))
        {
            var integers = left is long or bool && right is long or bool;
            var x = Values.ToDouble(left);
            var y = Values.ToDouble(right);
            switch (b.Op)
            {
                case "+": return integers ? (object)((long)x + (long)y) : x + y;
                case "-": return integers ? (object)((long)x - (long)y) : x - y;
                case "*": return integers ? (object)((long)x * (long)y) : x * y;
                case "/":
                    if (y == 0) throw new ChatTemplateException("division by zero", b.Line);
                    return x / y;
                case "//":
                    if (y == 0) throw new ChatTemplateException("division by zero", b.Line);
                    return integers ? (object)(long)Math.Floor(x / y) : Math.Floor(x / y);
                case "%":
                    if (y == 0) throw new ChatTemplateException("modulo by zero", b.Line);
                    var r = x - y * Math.Floor(x / y);   // Python's sign follows the divisor
                    return integers ? (object)(long)r : r;
                case "**": return integers && y >= 0 ? (object)(long)Math.Pow(x, y) : Math.Pow(x, y);
                case "<": return x < y;
                case ">": return x > y;
                case "<=": return x <= y;
                case ">=": return x >= y;
            }
        }
        if (left is string ls && right is string rs)
        {
            switch (b.Op)
            {
                case "+": return ls + rs;
                case "<": return string.CompareOrdinal(ls, rs) < 0;
                case ">": return string.CompareOrdinal(ls, rs) > 0;
                case "<=": return string.CompareOrdinal(ls, rs) <= 0;
                case ">=": return string.CompareOrdinal(ls, rs) >= 0;
            }
        }
        if (b.Op == "+" && left is List<object?> ll && right is List<object?> rl) return (List<object?>)[.. ll, .. rl];
        if (b.Op == "*" && left is string text && right is long count)
        {
            if (count > 0 && (long)text.Length * count > MaxStringLength) throw new ChatTemplateException($"string repetition would exceed {MaxStringLength} characters", b.Line);
            return string.Concat(Enumerable.Repeat(text, (int)Math.Max(0, count)));
        }
        throw new ChatTemplateException($"cannot apply '{b.Op}' to {Values.TypeName(left)} and {Values.TypeName(right)}", b.Line);
    }

    private static bool Contains(object? container, object? item, int line) => container switch
    {
        string s when item is string sub => s.Contains(sub, StringComparison.Ordinal),
        List<object?> list => list.Exists(x => Values.AreEqual(x, item)),
        OrderedDictionary<string, object?> dict => item is string key && dict.ContainsKey(key),
        Namespace ns => item is string key && ns.Values.ContainsKey(key),
        Undefined => false,
        _ => throw new ChatTemplateException($"'in' needs a string, list or mapping on the right, got {Values.TypeName(container)}", line),
    };

    private object? GetItem(object? target, object? index, int line)
    {
        switch (target)
        {
            case List<object?> list when index is long i:
                if (i < 0) i += list.Count;
                return i >= 0 && i < list.Count ? list[(int)i] : Undefined.Instance;
            case string s when index is long i:
                if (i < 0) i += s.Length;
                return i >= 0 && i < s.Length ? s[(int)i].ToString() : Undefined.Instance;
            case OrderedDictionary<string, object?> dict when index is string key:
                return dict.TryGetValue(key, out var value) ? value : Undefined.Instance;
            case Namespace ns when index is string key:
                return ns.Values.TryGetValue(key, out var nsValue) ? nsValue : Undefined.Instance;
            case Undefined:
                return Undefined.Instance;
            default:
                if (index is string name) return GetAttribute(target, name, line);
                throw new ChatTemplateException($"cannot index {Values.TypeName(target)} with {Values.TypeName(index)}", line);
        }
    }

    private static object? Slice(object? target, object? start, object? stop, object? step, int line)
    {
        long? Index(object? v, string what) => v switch
        {
            null => null,
            long l => l,
            _ => throw new ChatTemplateException($"slice {what} must be an integer, got {Values.TypeName(v)}", line),
        };
        var s0 = Index(start, "start");
        var s1 = Index(stop, "stop");
        var st = Index(step, "step") ?? 1;
        if (st == 0) throw new ChatTemplateException("slice step cannot be zero", line);
        var count = target switch
        {
            List<object?> list => list.Count,
            string s => s.Length,
            _ => throw new ChatTemplateException($"cannot slice {Values.TypeName(target)}", line),
        };
        var indices = new List<int>();
        // Python's slice.indices()
        long Clamp(long? v, long defaultValue, long low, long high)
        {
            if (v is not { } x) return defaultValue;
            if (x < 0) x += count;
            return Math.Clamp(x, low, high);
        }
        if (st > 0)
        {
            var from = Clamp(s0, 0, 0, count);
            var to = Clamp(s1, count, 0, count);
            for (var i = from; i < to; i += st) indices.Add((int)i);
        }
        else
        {
            var from = Clamp(s0, count - 1, -1, count - 1);
            var to = Clamp(s1, -1, -1, count - 1);
            if (s1 is { } x && x + count < 0) to = -1;
            for (var i = from; i > to; i += st) indices.Add((int)i);
        }
        return target is string text
            ? string.Concat(indices.Select(i => text[i]))
            : indices.Select(i => ((List<object?>)target)[i]).ToList();
    }
}
