using System.Globalization;
using System.Text;

namespace Rest.Onnx.Chat.Jinja;

/// <summary>Globals, methods, filters and tests: the ones chat templates use.</summary>
internal sealed partial class Interpreter
{
    private void AddGlobals(Scope globals)
    {
        globals.Set("raise_exception", new Callable("raise_exception", (args, _, line) =>
            throw new ChatTemplateException(args.Count > 0 ? Values.ToText(args[0]) : "raise_exception() was called", line, raisedByTemplate: true)));
        globals.Set("namespace", new Callable("namespace", (args, kwargs, line) =>
        {
            var values = new OrderedDictionary<string, object?>();
            if (args.Count > 0)
            {
                if (args[0] is not OrderedDictionary<string, object?> initial) throw new ChatTemplateException("namespace() takes a mapping or keyword arguments", line);
                foreach (var (k, v) in initial) values[k] = v;
            }
            foreach (var (k, v) in kwargs) values[k] = v;
            return new Namespace(values);
        }));
        globals.Set("dict", new Callable("dict", (args, kwargs, _) =>
        {
            var values = new OrderedDictionary<string, object?>();
            if (args.Count > 0 && args[0] is OrderedDictionary<string, object?> initial) foreach (var (k, v) in initial) values[k] = v;
            foreach (var (k, v) in kwargs) values[k] = v;
            return values;
        }));
        globals.Set("range", new Callable("range", (args, _, line) =>
        {
            var numbers = args.Select(a => a is long l ? l : throw new ChatTemplateException("range() takes integers", line)).ToArray();
            var (start, stop, step) = numbers.Length switch
            {
                1 => (0L, numbers[0], 1L),
                2 => (numbers[0], numbers[1], 1L),
                3 => (numbers[0], numbers[1], numbers[2]),
                _ => throw new ChatTemplateException("range() takes 1 to 3 arguments", line),
            };
            if (step == 0) throw new ChatTemplateException("range() step must not be zero", line);
            var length = step > 0 ? (stop - start + step - 1) / step : (start - stop - step - 1) / -step;
            if (length > MaxRangeLength) throw new ChatTemplateException($"range() of {length} items exceeds {MaxRangeLength}", line);
            var result = new List<object?>();
            for (var i = start; step > 0 ? i < stop : i > stop; i += step) result.Add(i);
            return result;
        }));
        globals.Set("strftime_now", new Callable("strftime_now", (args, _, line) =>
            args.Count == 1 && args[0] is string format ? Strftime(_now(), format, line) : throw new ChatTemplateException("strftime_now() takes one format string", line)));
    }

    private static string Strftime(DateTime time, string format, int line)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 == format.Length)
            {
                sb.Append(format[i]);
                continue;
            }
            var c = format[++i];
            sb.Append(c switch
            {
                'd' => time.ToString("dd", CultureInfo.InvariantCulture),
                'm' => time.ToString("MM", CultureInfo.InvariantCulture),
                'Y' => time.ToString("yyyy", CultureInfo.InvariantCulture),
                'y' => time.ToString("yy", CultureInfo.InvariantCulture),
                'b' => time.ToString("MMM", CultureInfo.InvariantCulture),
                'B' => time.ToString("MMMM", CultureInfo.InvariantCulture),
                'a' => time.ToString("ddd", CultureInfo.InvariantCulture),
                'A' => time.ToString("dddd", CultureInfo.InvariantCulture),
                'H' => time.ToString("HH", CultureInfo.InvariantCulture),
                'M' => time.ToString("mm", CultureInfo.InvariantCulture),
                'S' => time.ToString("ss", CultureInfo.InvariantCulture),
                'j' => time.DayOfYear.ToString("000", CultureInfo.InvariantCulture),
                '%' => "%",
                _ => throw new ChatTemplateException($"unsupported strftime directive '%{c}'", line),
            });
        }
        return sb.ToString();
    }

    private static object? GetAttribute(object? target, string name, int line)
    {
        switch (target)
        {
            case OrderedDictionary<string, object?> dict:
                if (dict.TryGetValue(name, out var value)) return value;
                return DictMethod(dict, name) ?? (object)Undefined.Instance;
            case Namespace ns:
                return ns.Values.TryGetValue(name, out var nsValue) ? nsValue : Undefined.Instance;
            case string s:
                return StringMethod(s, name) ?? (object)Undefined.Instance;
            case List<object?> list:
                return name == "append"
                    ? new Callable("append", (args, _, _) => { list.Add(args.Count > 0 ? args[0] : null); return null; })
                    : Undefined.Instance;
            default:
                return Undefined.Instance;
        }
    }

    private static Callable? DictMethod(OrderedDictionary<string, object?> dict, string name) => name switch
    {
        "get" => new Callable("get", (args, _, line) =>
        {
            if (args.Count == 0 || args[0] is not string key) throw new ChatTemplateException("get() takes a string key", line);
            return dict.TryGetValue(key, out var v) ? v : args.Count > 1 ? args[1] : null;
        }),
        "items" => new Callable("items", (_, _, _) => Items(dict)),
        "keys" => new Callable("keys", (_, _, _) => dict.Keys.Select(k => (object?)k).ToList()),
        "values" => new Callable("values", (_, _, _) => dict.Values.ToList()),
        _ => null,
    };

    private static List<object?> Items(OrderedDictionary<string, object?> dict)
        => dict.Select(p => (object?)new List<object?> { p.Key, p.Value }).ToList();

    private static Callable? StringMethod(string s, string name)
    {
        static string? Chars(List<object?> args, int line) => args.Count == 0 || args[0] is null ? null
            : args[0] as string ?? throw new ChatTemplateException("strip characters must be a string", line);
        return name switch
        {
            "upper" => new Callable(name, (_, _, _) => s.ToUpperInvariant()),
            "lower" => new Callable(name, (_, _, _) => s.ToLowerInvariant()),
            "title" => new Callable(name, (_, _, _) => Title(s)),
            "capitalize" => new Callable(name, (_, _, _) => Capitalize(s)),
            "strip" => new Callable(name, (args, _, line) => Chars(args, line) is { } c ? s.Trim(c.ToCharArray()) : s.Trim()),
            "lstrip" => new Callable(name, (args, _, line) => Chars(args, line) is { } c ? s.TrimStart(c.ToCharArray()) : s.TrimStart()),
            "rstrip" => new Callable(name, (args, _, line) => Chars(args, line) is { } c ? s.TrimEnd(c.ToCharArray()) : s.TrimEnd()),
            "startswith" => new Callable(name, (args, _, line) => Affix(s, args, line, prefix: true)),
            "endswith" => new Callable(name, (args, _, line) => Affix(s, args, line, prefix: false)),
            "split" => new Callable(name, (args, kwargs, line) => Split(s, args.Count > 0 ? args[0] : kwargs.GetValueOrDefault("sep"), args.Count > 1 ? args[1] : kwargs.GetValueOrDefault("maxsplit", -1L), line)),
            "replace" => new Callable(name, (args, _, line) =>
            {
                if (args.Count < 2 || args[0] is not string old || args[1] is not string replacement) throw new ChatTemplateException("replace() takes two strings", line);
                var count = args.Count > 2 && args[2] is long n ? n : -1;
                return Replace(s, old, replacement, count);
            }),
            "find" => new Callable(name, (args, _, line) => args.Count > 0 && args[0] is string sub ? (long)s.IndexOf(sub, StringComparison.Ordinal) : throw new ChatTemplateException("find() takes a string", line)),
            "count" => new Callable(name, (args, _, line) => args.Count > 0 && args[0] is string sub && sub.Length > 0 ? (long)CountOf(s, sub) : throw new ChatTemplateException("count() takes a non-empty string", line)),
            "join" => new Callable(name, (args, _, line) => args.Count > 0 && args[0] is List<object?> items ? string.Join(s, items.Select(Values.ToText)) : throw new ChatTemplateException("join() takes a list", line)),
            _ => null,
        };
    }

    private static bool Affix(string s, List<object?> args, int line, bool prefix)
    {
        var candidates = args.Count > 0 ? args[0] switch
        {
            string one => [one],
            List<object?> many => many.Select(x => x as string ?? throw new ChatTemplateException("startswith/endswith take strings", line)).ToList(),
            _ => throw new ChatTemplateException("startswith/endswith take a string or a tuple of strings", line),
        } : throw new ChatTemplateException("startswith/endswith take a string", line);
        return candidates.Exists(c => prefix ? s.StartsWith(c, StringComparison.Ordinal) : s.EndsWith(c, StringComparison.Ordinal));
    }

    private static List<object?> Split(string s, object? separator, object? maxSplit, int line)
    {
        var max = maxSplit is long m ? m : -1;
        var parts = new List<object?>();
        if (separator is null or Undefined)
        {
            var rest = s.TrimStart();
            while (rest.Length > 0)
            {
                if (max >= 0 && parts.Count == max)
                {
                    parts.Add(rest);
                    break;
                }
                var end = 0;
                while (end < rest.Length && !char.IsWhiteSpace(rest[end])) end++;
                parts.Add(rest[..end]);
                rest = rest[end..].TrimStart();
            }
            return parts;
        }
        if (separator is not string sep || sep.Length == 0) throw new ChatTemplateException("split() separator must be a non-empty string", line);
        var start = 0;
        while (true)
        {
            var at = max >= 0 && parts.Count == max ? -1 : s.IndexOf(sep, start, StringComparison.Ordinal);
            if (at < 0)
            {
                parts.Add(s[start..]);
                return parts;
            }
            parts.Add(s[start..at]);
            start = at + sep.Length;
        }
    }

    private static string Replace(string s, string old, string replacement, long count)
    {
        if (count < 0) return old.Length == 0 ? string.Join(replacement, s.Select(c => c.ToString()).Prepend("").Append("")) : s.Replace(old, replacement, StringComparison.Ordinal);
        var sb = new StringBuilder();
        var start = 0;
        for (var n = 0; n < count && old.Length > 0; n++)
        {
            var at = s.IndexOf(old, start, StringComparison.Ordinal);
            if (at < 0) break;
            sb.Append(s, start, at - start).Append(replacement);
            start = at + old.Length;
        }
        return sb.Append(s, start, s.Length - start).ToString();
    }

    private static int CountOf(string s, string sub)
    {
        var n = 0;
        for (var at = s.IndexOf(sub, StringComparison.Ordinal); at >= 0; at = s.IndexOf(sub, at + sub.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    private static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        var previousLetter = false;
        foreach (var c in s)
        {
            sb.Append(previousLetter ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            previousLetter = char.IsLetterOrDigit(c);
        }
        return sb.ToString();
    }

    private object? ApplyFilter(string name, object? value, List<object?> args, OrderedDictionary<string, object?> kwargs, int line, Scope scope)
    {
        object? Arg(int index, string key, object? fallback) => index < args.Count ? args[index] : kwargs.TryGetValue(key, out var v) ? v : fallback;
        switch (name)
        {
            case "trim":
                return Arg(0, "chars", null) is string chars ? Text(value, name, line).Trim(chars.ToCharArray()) : Text(value, name, line).Trim();
            case "upper":
                return Text(value, name, line).ToUpperInvariant();
            case "lower":
                return Text(value, name, line).ToLowerInvariant();
            case "capitalize":
                return Capitalize(Text(value, name, line));
            case "title":
                return Title(Text(value, name, line));
            case "string":
                return Values.ToText(value);
            case "safe":
                return value;
            case "length" or "count":
                return value switch
                {
                    string s => (long)s.Length,
                    List<object?> list => (long)list.Count,
                    OrderedDictionary<string, object?> dict => (long)dict.Count,
                    Undefined => 0L,
                    _ => throw new ChatTemplateException($"'{name}' filter needs a string, list or mapping, got {Values.TypeName(value)}", line),
                };
            case "first":
                return value switch
                {
                    List<object?> list => list.Count > 0 ? list[0] : Undefined.Instance,
                    string s => s.Length > 0 ? s[0].ToString() : Undefined.Instance,
                    _ => throw new ChatTemplateException($"'first' filter needs a list or string, got {Values.TypeName(value)}", line),
                };
            case "last":
                return value switch
                {
                    List<object?> list => list.Count > 0 ? list[^1] : Undefined.Instance,
                    string s => s.Length > 0 ? s[^1].ToString() : Undefined.Instance,
                    _ => throw new ChatTemplateException($"'last' filter needs a list or string, got {Values.TypeName(value)}", line),
                };
            case "default" or "d":
            {
                var fallback = Arg(0, "default_value", "");
                var boolean = Values.IsTrue(Arg(1, "boolean", false));
                return value is Undefined || (boolean && !Values.IsTrue(value)) ? fallback : value;
            }
            case "join":
            {
                var separator = Arg(0, "d", "") as string ?? "";
                var attribute = Arg(1, "attribute", null) as string;
                var items = Sequence(value, name, line);
                return string.Join(separator, items.Select(i => Values.ToText(attribute is null ? i : GetPath(i, attribute, line))));
            }
            case "list":
                return Sequence(value, name, line);
            case "reverse":
                return value is string rs ? new string(rs.Reverse().ToArray()) : Enumerable.Reverse(Sequence(value, name, line)).ToList();
            case "items":
                return value switch
                {
                    OrderedDictionary<string, object?> dict => Items(dict),
                    Undefined => new List<object?>(),
                    _ => throw new ChatTemplateException($"'items' filter needs a mapping, got {Values.TypeName(value)}", line),
                };
            case "tojson":
            {
                var indent = Arg(0, "indent", null) is long n ? (int?)n : null;
                return Json.Write(value, indent, indent is null ? ", " : ",", ": ");
            }
            case "int":
                return value switch
                {
                    long l => l,
                    double d => (long)Math.Truncate(d),
                    bool b => b ? 1L : 0L,
                    string s => long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l
                        : double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? (long)Math.Truncate(d) : Arg(0, "default", 0L),
                    _ => Arg(0, "default", 0L),
                };
            case "float":
                return value switch
                {
                    long or double or bool => Values.ToDouble(value),
                    string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
                    _ => Arg(0, "default", 0.0),
                };
            case "abs":
                return value switch
                {
                    long l => (object)Math.Abs(l),
                    double d => (object)Math.Abs(d),
                    _ => throw new ChatTemplateException($"'abs' filter needs a number, got {Values.TypeName(value)}", line),
                };
            case "replace":
            {
                if (Arg(0, "old", null) is not string old || Arg(1, "new", null) is not string replacement) throw new ChatTemplateException("'replace' filter takes two strings", line);
                return Replace(Text(value, name, line), old, replacement, Arg(2, "count", null) is long c ? c : -1);
            }
            case "indent":
            {
                var width = Arg(0, "width", 4L) is long w ? new string(' ', (int)w) : Arg(0, "width", "") as string ?? "";
                var first = Values.IsTrue(Arg(1, "first", false));
                var blank = Values.IsTrue(Arg(2, "blank", false));
                var lines = Text(value, name, line).Split('\n');
                var sb = new StringBuilder();
                for (var i = 0; i < lines.Length; i++)
                {
                    if (i > 0) sb.Append('\n');
                    if ((i > 0 || first) && (blank || lines[i].Trim().Length > 0)) sb.Append(width);
                    sb.Append(lines[i]);
                }
                return sb.ToString();
            }
            case "select" or "reject":
            {
                var keep = name == "select";
                var items = Sequence(value, name, line);
                if (args.Count == 0) return items.Where(i => Values.IsTrue(i) == keep).ToList();
                var test = args[0] as string ?? throw new ChatTemplateException($"'{name}' takes a test name", line);
                return items.Where(i => ApplyTest(test, i, args.Skip(1).ToList(), line) == keep).ToList();
            }
            case "selectattr" or "rejectattr":
            {
                var keep = name == "selectattr";
                var items = Sequence(value, name, line);
                var attribute = Arg(0, "attribute", null) as string ?? throw new ChatTemplateException($"'{name}' takes an attribute name", line);
                if (args.Count < 2) return items.Where(i => Values.IsTrue(GetPath(i, attribute, line)) == keep).ToList();
                var test = args[1] as string ?? throw new ChatTemplateException($"'{name}' takes a test name", line);
                return items.Where(i => ApplyTest(test, GetPath(i, attribute, line), args.Skip(2).ToList(), line) == keep).ToList();
            }
            case "map":
            {
                var items = Sequence(value, name, line);
                if (kwargs.TryGetValue("attribute", out var a) && a is string attribute)
                {
                    var fallback = kwargs.TryGetValue("default", out var d) ? d : Undefined.Instance;
                    return items.Select(i => GetPath(i, attribute, line) is Undefined ? fallback : GetPath(i, attribute, line)).ToList();
                }
                var filter = args.Count > 0 ? args[0] as string : null;
                if (filter is null) throw new ChatTemplateException("'map' takes a filter name or attribute=", line);
                return items.Select(i => ApplyFilter(filter, i, args.Skip(1).ToList(), [], line, scope)).ToList();
            }
            case "unique":
            {
                var result = new List<object?>();
                foreach (var item in Sequence(value, name, line)) if (!result.Exists(r => Values.AreEqual(r, item))) result.Add(item);
                return result;
            }
            case "wordcount":
                return (long)Text(value, name, line).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
            default:
                throw new ChatTemplateException($"unsupported filter '{name}'", line);
        }
    }

    private static string Text(object? value, string filter, int line) => value switch
    {
        string s => s,
        Undefined => "",
        null or bool or long or double => Values.ToText(value),
        _ => throw new ChatTemplateException($"'{filter}' filter needs a string, got {Values.TypeName(value)}", line),
    };

    private static List<object?> Sequence(object? value, string filter, int line) => value switch
    {
        List<object?> list => list,
        string s => s.Select(c => (object?)c.ToString()).ToList(),
        OrderedDictionary<string, object?> dict => dict.Keys.Select(k => (object?)k).ToList(),
        Undefined => [],
        _ => throw new ChatTemplateException($"'{filter}' filter needs a sequence, got {Values.TypeName(value)}", line),
    };

    /// <summary>Dotted attribute path as the selectattr/map/join filters take it ("a.b", "0").</summary>
    private object? GetPath(object? item, string path, int line)
    {
        foreach (var part in path.Split('.'))
        {
            item = long.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var index) && item is List<object?>
                ? GetItem(item, index, line)
                : GetItem(item, part, line);
        }
        return item;
    }

    private static bool ApplyTest(string name, object? value, List<object?> args, int line)
    {
        object? Arg() => args.Count > 0 ? args[0] : throw new ChatTemplateException($"test '{name}' needs an argument", line);
        return name switch
        {
            "defined" => value is not Undefined,
            "undefined" => value is Undefined,
            "none" => value is null,
            "string" => value is string,
            "number" => value is long or double,
            "integer" => value is long,
            "float" => value is double,
            "boolean" => value is bool,
            "true" => value is true,
            "false" => value is false,
            "mapping" => value is OrderedDictionary<string, object?>,
            "iterable" => value is List<object?> or string or OrderedDictionary<string, object?>,
            "sequence" => value is List<object?> or string or OrderedDictionary<string, object?>,
            "callable" => value is Callable,
            "odd" => value is long o ? o % 2 != 0 : throw new ChatTemplateException("test 'odd' needs an integer", line),
            "even" => value is long e ? e % 2 == 0 : throw new ChatTemplateException("test 'even' needs an integer", line),
            "divisibleby" => value is long v && Arg() is long d && d != 0 ? v % d == 0 : throw new ChatTemplateException("test 'divisibleby' needs integers", line),
            "lower" => value is string lo && string.Equals(lo, lo.ToLowerInvariant(), StringComparison.Ordinal),
            "upper" => value is string up && string.Equals(up, up.ToUpperInvariant(), StringComparison.Ordinal),
            "equalto" or "eq" or "==" or "sameas" => Values.AreEqual(value, Arg()),
            "ne" or "!=" => !Values.AreEqual(value, Arg()),
            "in" => Contains(Arg(), value, line),
            _ => throw new ChatTemplateException($"unsupported test '{name}'", line),
        };
    }
}
