using System.Globalization;

namespace Rest.Onnx.Export.Tool;

/// <summary>Minimal <c>--name value</c> / <c>--flag</c> parser that rejects unknown options.</summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public Arguments(IReadOnlyList<string> args, IReadOnlySet<string> flags)
    {
        for (int i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Unexpected argument '{a}'.");
            var name = a[2..];
            if (flags.Contains(name)) { _values[name] = null; continue; }
            if (i + 1 >= args.Count) throw new ArgumentException($"Option '{a}' needs a value.");
            _values[name] = args[++i];
        }
    }

    public string? String(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var v) ? v : null;
    }

    public string Required(string name) => String(name) ?? throw new ArgumentException($"Option '--{name}' is required.");

    public bool Flag(string name)
    {
        _used.Add(name);
        return _values.ContainsKey(name);
    }

    public int Int(string name, int fallback) => String(name) is { } v ? ParseInt(name, v) : fallback;

    public int? OptionalInt(string name) => String(name) is { } v ? ParseInt(name, v) : null;

    public double Double(string name, double fallback) => String(name) is { } v
        ? double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : throw new ArgumentException($"Option '--{name}' expects a number, got '{v}'.")
        : fallback;

    private static int ParseInt(string name, string v)
        => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n
            : throw new ArgumentException($"Option '--{name}' expects an integer, got '{v}'.");

    /// <summary>Throws when an option was given that no verb reads.</summary>
    public void RejectUnused()
    {
        foreach (var k in _values.Keys)
            if (!_used.Contains(k)) throw new ArgumentException($"Unknown option '--{k}'.");
    }
}
