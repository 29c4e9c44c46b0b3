using System.Globalization;
using System.Text;

namespace Rest.Onnx.Chat.Jinja;

/// <summary>Jinja's undefined value: renders as nothing, is falsy, and is what a missing variable or key gives.</summary>
internal sealed class Undefined
{
    public static readonly Undefined Instance = new();

    private Undefined() { }
}

/// <summary>The object <c>namespace(...)</c> returns: attributes assignable from inner scopes.</summary>
internal sealed class Namespace(OrderedDictionary<string, object?> values)
{
    public OrderedDictionary<string, object?> Values { get; } = values;
}

/// <summary>A callable: a global function, or a method bound to its receiver.</summary>
internal sealed class Callable(string name, Func<List<object?>, OrderedDictionary<string, object?>, int, object?> invoke)
{
    public string Name { get; } = name;

    public object? Invoke(List<object?> args, OrderedDictionary<string, object?> kwargs, int line) => invoke(args, kwargs, line);
}

/// <summary>
/// Template values are plain objects: null (none), <see cref="Undefined"/>, string, bool, long, double,
/// <c>List&lt;object?&gt;</c> (lists and tuples), <c>OrderedDictionary&lt;string, object?&gt;</c> (mappings, which keep
/// insertion order as Python dicts do), <see cref="Namespace"/> and <see cref="Callable"/>.
/// </summary>
internal static class Values
{
    public static bool IsTrue(object? value) => value switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> list => list.Count > 0,
        OrderedDictionary<string, object?> dict => dict.Count > 0,
        _ => true,
    };

    public static bool IsNumber(object? value) => value is long or double or bool;

    public static double ToDouble(object? value) => value switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new InvalidCastException(),
    };

    public static string TypeName(object? value) => value switch
    {
        null => "none",
        Undefined => "undefined",
        string => "string",
        bool => "boolean",
        long => "integer",
        double => "float",
        List<object?> => "list",
        OrderedDictionary<string, object?> => "dict",
        Namespace => "namespace",
        Callable => "function",
        _ => value.GetType().Name,
    };

    /// <summary>How a value prints in output and with <c>~</c> or <c>|string</c>: Python's str() for scalars.</summary>
    public static string ToText(object? value) => value switch
    {
        null => "None",
        Undefined => "",
        string s => s,
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FormatDouble(d),
        List<object?> or OrderedDictionary<string, object?> or Namespace => Json.Write(value, null, ", ", ": "),
        Callable c => $"<function {c.Name}>",
        _ => value.ToString() ?? "",
    };

    public static string FormatDouble(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        if (d == Math.Floor(d) && Math.Abs(d) < 1e16) return d.ToString("0.0", CultureInfo.InvariantCulture);
        return d.ToString("R", CultureInfo.InvariantCulture);
    }

    public static bool AreEqual(object? a, object? b)
    {
        if (a is Undefined || b is Undefined) return a is Undefined && b is Undefined;
        if (a is null || b is null) return a is null && b is null;
        if (IsNumber(a) && IsNumber(b)) return ToDouble(a) == ToDouble(b);
        if (a is string sa && b is string sb) return string.Equals(sa, sb, StringComparison.Ordinal);
        if (a is List<object?> la && b is List<object?> lb)
        {
            if (la.Count != lb.Count) return false;
            for (var i = 0; i < la.Count; i++) if (!AreEqual(la[i], lb[i])) return false;
            return true;
        }
        if (a is OrderedDictionary<string, object?> da && b is OrderedDictionary<string, object?> db)
        {
            if (da.Count != db.Count) return false;
            foreach (var (key, value) in da) if (!db.TryGetValue(key, out var other) || !AreEqual(value, other)) return false;
            return true;
        }
        return ReferenceEquals(a, b);
    }

    /// <summary>Converts caller-supplied .NET values (dictionaries, lists, numbers, strings) to template values.</summary>
    public static object? FromClr(object? value) => value switch
    {
        null => null,
        string or bool or long or double or Undefined or Namespace or Callable => value,
        int i => (long)i,
        short s => (long)s,
        byte b => (long)b,
        uint u => (long)u,
        float f => (double)f,
        decimal m => (double)m,
        OrderedDictionary<string, object?> d => d,
        System.Text.Json.JsonElement e => FromJson(e),
        System.Collections.IDictionary dict => FromDictionary(dict),
        IEnumerable<KeyValuePair<string, object?>> pairs => FromPairs(pairs),
        System.Collections.IEnumerable items => FromEnumerable(items),
        _ => value.ToString(),
    };

    private static OrderedDictionary<string, object?> FromDictionary(System.Collections.IDictionary dict)
    {
        var result = new OrderedDictionary<string, object?>();
        foreach (System.Collections.DictionaryEntry entry in dict) result[entry.Key.ToString() ?? ""] = FromClr(entry.Value);
        return result;
    }

    private static OrderedDictionary<string, object?> FromPairs(IEnumerable<KeyValuePair<string, object?>> pairs)
    {
        var result = new OrderedDictionary<string, object?>();
        foreach (var (key, value) in pairs) result[key] = FromClr(value);
        return result;
    }

    private static List<object?> FromEnumerable(System.Collections.IEnumerable items)
    {
        var result = new List<object?>();
        foreach (var item in items) result.Add(FromClr(item));
        return result;
    }

    private static object? FromJson(System.Text.Json.JsonElement e) => e.ValueKind switch
    {
        System.Text.Json.JsonValueKind.String => e.GetString(),
        System.Text.Json.JsonValueKind.Number => e.TryGetInt64(out var l) ? (object)l : e.GetDouble(),
        System.Text.Json.JsonValueKind.True => true,
        System.Text.Json.JsonValueKind.False => false,
        System.Text.Json.JsonValueKind.Array => e.EnumerateArray().Select(FromJson).ToList(),
        System.Text.Json.JsonValueKind.Object => FromPairs(e.EnumerateObject().Select(p => new KeyValuePair<string, object?>(p.Name, FromJson(p.Value)))),
        _ => null,
    };
}

/// <summary>JSON as Python's <c>json.dumps</c> writes it (the <c>tojson</c> filter Hugging Face installs: no key sorting, non-ASCII kept).</summary>
internal static class Json
{
    public static string Write(object? value, int? indent, string itemSeparator, string keySeparator)
    {
        var sb = new StringBuilder();
        Write(sb, value, indent, itemSeparator, keySeparator, 0);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? value, int? indent, string itemSeparator, string keySeparator, int depth)
    {
        switch (value)
        {
            case null or Undefined:
                sb.Append("null");
                break;
            case bool b:
                sb.Append(b ? "true" : "false");
                break;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                sb.Append(Values.FormatDouble(d));
                break;
            case string s:
                WriteString(sb, s);
                break;
            case List<object?> list:
                sb.Append('[');
                for (var i = 0; i < list.Count; i++)
                {
                    if (i > 0) sb.Append(itemSeparator);
                    NewLine(sb, indent, depth + 1);
                    Write(sb, list[i], indent, itemSeparator, keySeparator, depth + 1);
                }
                if (list.Count > 0) NewLine(sb, indent, depth);
                sb.Append(']');
                break;
            case OrderedDictionary<string, object?> or Namespace:
                var dict = value as OrderedDictionary<string, object?> ?? ((Namespace)value).Values;
                sb.Append('{');
                var first = true;
                foreach (var (key, item) in dict)
                {
                    if (!first) sb.Append(itemSeparator);
                    first = false;
                    NewLine(sb, indent, depth + 1);
                    WriteString(sb, key);
                    sb.Append(keySeparator);
                    Write(sb, item, indent, itemSeparator, keySeparator, depth + 1);
                }
                if (dict.Count > 0) NewLine(sb, indent, depth);
                sb.Append('}');
                break;
            default:
                throw new InvalidOperationException($"cannot convert {Values.TypeName(value)} to JSON");
        }
    }

    private static void NewLine(StringBuilder sb, int? indent, int depth)
    {
        if (indent is not { } n) return;
        sb.Append('\n').Append(' ', n * depth);
    }

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
