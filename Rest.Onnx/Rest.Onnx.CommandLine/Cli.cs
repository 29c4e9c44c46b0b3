using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Rest.Onnx.CommandLine;

/// <summary>A command-line mistake found after parsing (e.g. two options that exclude each other): exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The command-line convention of the four tools (this one file, shared by all four): System.CommandLine parses;
/// exit code 0 on success, 1 on a failure with one line on stderr naming the cause, 2 on a usage error naming the
/// option. Unknown options and bad values are usage errors; help is generated on every verb.
/// </summary>
public static class Cli
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int UsageError = 2;

    /// <summary>The root command, named explicitly (a <see cref="RootCommand"/> takes the host's name, e.g. testhost).</summary>
    public static Command Root(string name, string description)
    {
        var root = new Command(name, description);
        root.Add(new System.CommandLine.Help.HelpOption());
        return root;
    }

    /// <summary>Parses and runs; never throws the expected failures, which become exit codes with one line on <paramref name="error"/>.</summary>
    public static int Run(Command root, IReadOnlyList<string> args, TextWriter output, TextWriter error, Func<Exception, bool> isExpectedFailure)
    {
        var tool = root.Name;
        if (root.Subcommands.Count > 0 && root.Arguments.Count == 0 && args.Count > 0 && !args[0].StartsWith('-')
            && !root.Subcommands.Any(c => c.Name == args[0] || c.Aliases.Contains(args[0])))
            return Usage(error, tool, [$"unknown verb '{args[0]}' (expected {string.Join(", ", root.Subcommands.Select(c => c.Name))})."], tool);

        var parse = root.Parse(args);
        var verb = string.Join(' ', Path(parse.CommandResult));
        if (parse.Errors.Count > 0 && parse.Action is not System.CommandLine.Help.HelpAction)
            return Usage(error, tool, parse.Errors.Select(Describe), verb);
        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            return Usage(error, tool, [e.Message], verb);
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException or InvalidOperationException
                                      or UnauthorizedAccessException or NotSupportedException or KeyNotFoundException
                                      or OperationCanceledException || isExpectedFailure(e))
        {
            error.WriteLine($"{tool}: error: {OneLine(e.Message)}");
            return Failure;
        }
    }

    /// <summary>The command names from the root down to <paramref name="command"/>, e.g. <c>tool figures datastore</c>.</summary>
    private static IEnumerable<string> Path(CommandResult command)
        => command.Parent is CommandResult parent ? [.. Path(parent), command.Command.Name] : [command.Command.Name];

    /// <summary>
    /// The option's value, or <paramref name="fallback"/> when the option is not given: for options whose default is
    /// spelled in their description (lists, where help would print <c>[default: 4|8]</c>).
    /// </summary>
    public static T ValueOr<T>(this ParseResult parse, Option<T> option, T fallback)
        => parse.GetResult(option) is null ? fallback : parse.GetRequiredValue(option);

    private static int Usage(TextWriter error, string tool, IEnumerable<string> messages, string verb)
    {
        foreach (var m in messages) error.WriteLine($"{tool}: {OneLine(m)}");
        error.WriteLine($"Run '{verb} --help' for usage.");
        return UsageError;
    }

    /// <summary>A parse error's message, prefixed with the option it concerns when the message does not name it.</summary>
    private static string Describe(ParseError e)
    {
        var option = e.SymbolResult switch
        {
            OptionResult o => o.Option,
            ArgumentResult { Parent: OptionResult o } => o.Option,
            _ => null,
        };
        return option is null || e.Message.Contains(option.Name, StringComparison.Ordinal) ? e.Message : $"{option.Name}: {e.Message}";
    }

    private static string OneLine(string message)
        => string.Join(' ', message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>A switch: takes no value, so the token after it is never read as one (<c>--json "some text"</c>).</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>Rejects option-like tokens given to a positional argument (System.CommandLine would take a misspelled option as a value).</summary>
    public static Argument<T> RejectingOptions<T>(this Argument<T> argument)
    {
        argument.Validators.Add(r =>
        {
            foreach (var t in r.Tokens)
                if (t.Value.Length > 1 && t.Value[0] == '-') r.AddError($"Unrecognized option '{t.Value}'.");
        });
        return argument;
    }

    /// <summary>An integer option whose values must lie in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<T> InRange<T>(this Option<T> option, T min, T max) where T : struct, IComparable<T>
    {
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count == 0 || !TryGetValue(r, out T v)) return;
            if (v.CompareTo(min) < 0 || v.CompareTo(max) > 0)
                r.AddError($"{option.Name} must be in [{Format(min)}, {Format(max)}], got '{r.Tokens[^1].Value}'.");
        });
        return option;
    }

    /// <summary>An optional integer option whose values, when given, must lie in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<T?> InRange<T>(this Option<T?> option, T min, T max) where T : struct, IComparable<T>
    {
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count == 0 || !TryGetValue(r, out T? value) || value is not { } v) return;
            if (v.CompareTo(min) < 0 || v.CompareTo(max) > 0)
                r.AddError($"{option.Name} must be in [{Format(min)}, {Format(max)}], got '{r.Tokens[^1].Value}'.");
        });
        return option;
    }

    /// <summary>The parsed value, false when it did not parse (that error is reported already).</summary>
    private static bool TryGetValue<T>(OptionResult result, out T value)
    {
        try
        {
            value = result.GetValueOrDefault<T>();
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default!;
            return false;
        }
    }

    /// <summary>An option whose values are named choices (any case on the command line), e.g. <c>--mode sampled|exact</c>.</summary>
    public static Choice<T> Choice<T>(string name, string description, string defaultName, params (string Name, T Value)[] choices)
        => new(name, description, defaultName, choices);

    /// <summary>
    /// A comma list of positive integers (<c>--budgets 4,8,16</c>); the option may also be repeated. Empty items,
    /// non-numbers and values under 1 are errors naming the option.
    /// </summary>
    /// <remarks>No default value in the option: read it with <see cref="ValueOr{T}"/>.</remarks>
    /// <param name="name">The option, e.g. <c>--budgets</c>.</param>
    /// <param name="description">Help text.</param>
    /// <param name="named">Words that stand for a value (any case), e.g. <c>("auto", -1)</c>.</param>
    public static Option<int[]> PositiveIntList(string name, string description, params (string Word, int Value)[] named)
    {
        var option = new Option<int[]>(name)
        {
            Description = description,
            HelpName = named.Length == 0 ? "N,N,..." : $"N|{string.Join('|', named.Select(n => n.Word))},...",
            Arity = ArgumentArity.OneOrMore,
        };
        var what = named.Length == 0 ? "positive integers" : $"positive integers or {string.Join(" or ", named.Select(n => $"'{n.Word}'"))}";
        option.CustomParser = r =>
        {
            var values = new List<int>();
            foreach (var token in r.Tokens)
                foreach (var item in token.Value.Split(','))
                {
                    var text = item.Trim();
                    var word = Array.FindIndex(named, n => n.Word.Equals(text, StringComparison.OrdinalIgnoreCase));
                    if (word >= 0) values.Add(named[word].Value);
                    else if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 1) values.Add(v);
                    else
                    {
                        r.AddError($"{name} takes {what} separated by commas, got '{token.Value}'.");
                        return [];
                    }
                }
            return [.. values.Distinct()];
        };
        return option;
    }

    private static string Format<T>(T value) => value is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : $"{value}";
}

/// <summary>A string option restricted to named choices, each standing for a typed value (help lists the names and the default).</summary>
public sealed class Choice<T>
{
    private readonly Dictionary<string, T> _values;

    public Choice(string name, string description, string defaultName, (string Name, T Value)[] choices)
    {
        _values = choices.ToDictionary(c => c.Name, c => c.Value, StringComparer.OrdinalIgnoreCase);
        Option = new Option<string>(name) { Description = description, HelpName = string.Join('|', choices.Select(c => c.Name)), DefaultValueFactory = _ => defaultName };
        Option.AcceptOnlyFromAmong(StringComparer.OrdinalIgnoreCase, [.. choices.Select(c => c.Name)]);
    }

    public Option<string> Option { get; }

    public T Get(ParseResult parse) => _values[parse.GetRequiredValue(Option)];
}
