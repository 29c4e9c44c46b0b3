using System.Globalization;

namespace Rest.Onnx.Datastore.Tool;

/// <summary>A command-line mistake: printed with a hint, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// Hand-written parser: <c>--name value</c> options, <c>--flag</c> switches and positional arguments.
/// Unknown options are errors, so typos do not pass silently.
/// </summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    public Arguments(string verb, string[] args, IReadOnlyCollection<string> valueOptions, IReadOnlyCollection<string> flagOptions)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a is "--help" or "-h")
            {
                Help = true;
                continue;
            }
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                var name = a[2..];
                if (flagOptions.Contains(name)) _flags.Add(name);
                else if (valueOptions.Contains(name))
                {
                    if (i + 1 >= args.Length) throw new UsageException($"{verb}: option --{name} needs a value.");
                    _values[name] = args[++i];
                }
                else throw new UsageException($"{verb}: unknown option --{name}.");
                continue;
            }
            Positionals.Add(a);
        }
    }

    public bool Help { get; }

    public List<string> Positionals { get; } = [];

    public bool Flag(string name) => _flags.Contains(name);

    public string? Value(string name) => _values.GetValueOrDefault(name);

    public long? Long(string name, long min, long max)
    {
        var text = Value(name);
        if (text is null) return null;
        if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
            throw new UsageException($"--{name} must be an integer in [{min}, {max}], got '{text}'.");
        return v;
    }

    public int? Int(string name, int min, int max) => (int?)Long(name, min, max);

    public static int[] ParseIds(string text)
    {
        var parts = text.Split([' ', ',', '\t'], StringSplitOptions.RemoveEmptyEntries);
        var ids = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out ids[i]))
                throw new UsageException($"--ids: '{parts[i]}' is not a token id.");
        return ids;
    }
}
