using System.CommandLine;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Bench.Commands;

/// <summary>Option shapes the <c>figures</c> verbs share (comma lists of named choices, int4 block sizes, the clock).</summary>
internal static class FigureOptions
{
    /// <summary>
    /// A comma list of named choices (<c>--dtypes fp32,int4</c>, any case); the option may also be repeated. Every item
    /// must be one of the names: an empty or unknown item is an error naming the option. Duplicates are dropped, order kept.
    /// </summary>
    /// <remarks>No default value in the option (help would print the choices as the default): read it with <see cref="Cli.ValueOr{T}"/>
    /// and spell the default in <paramref name="description"/>.</remarks>
    public static Option<T[]> ChoiceList<T>(string name, string description, params (string Name, T Value)[] choices)
    {
        var names = string.Join(',', choices.Select(c => c.Name));
        var option = new Option<T[]>(name) { Description = description, HelpName = names, Arity = ArgumentArity.OneOrMore };
        option.CustomParser = r =>
        {
            var values = new List<T>();
            foreach (var token in r.Tokens)
                foreach (var item in token.Value.Split(','))
                {
                    var match = choices.Where(c => string.Equals(c.Name, item.Trim(), StringComparison.OrdinalIgnoreCase)).ToArray();
                    if (match.Length == 0)
                    {
                        r.AddError($"{name} takes {string.Join(", ", choices.Select(c => c.Name))} separated by commas, got '{token.Value}'.");
                        return [];
                    }
                    values.Add(match[0].Value);
                }
            return [.. values.Distinct()];
        };
        return option;
    }

    /// <summary>The model shapes: small (<see cref="BenchModel.Small"/>) and 1b (the TinyLlama-1.1B shape).</summary>
    public static Option<string[]> Shapes()
        => ChoiceList("--shapes", "model shapes: small (BenchModel.Small) and/or 1b (TinyLlama-1.1B shape, random weights) [default: small,1b]",
            ("small", "small"), ("1b", "1b"));

    /// <summary>The weight types the figures compare.</summary>
    public static Option<ModelDType[]> DTypes()
        => ChoiceList("--dtypes", "weight types [default: fp32,int4]", ("fp32", ModelDType.Float32), ("int4", ModelDType.Int4));

    /// <summary><c>--clock wall|cpu</c>: true for the process's CPU time.</summary>
    public static Choice<bool> Clock()
        => Cli.Choice("--clock", "wall time, or the process's CPU time (steadier on a shared machine; use with --threads 1, idle intra-op threads spin and would count)",
            "wall", ("wall", false), ("cpu", true));

    /// <summary><c>--threads N</c>: intra-op threads; not given = all cores.</summary>
    public static Option<int?> Threads()
        => new Option<int?>("--threads") { Description = "intra-op threads [default: all cores]", HelpName = "N" }.InRange(1, 1024);

    /// <summary>Adds the int4 block-size rule (a power of two, at least 16) to an int or int-list option, naming it on error.</summary>
    public static Option<T> PowerOfTwoBlocks<T>(this Option<T> option)
    {
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count == 0) return;
            int[] values;
            try
            {
                values = r.GetValueOrDefault<T>() switch { int v => [v], int[] v => v, _ => [] };
            }
            catch (InvalidOperationException)
            {
                return; // did not parse: reported already
            }
            foreach (var v in values)
                if (v < 16 || (v & (v - 1)) != 0)
                {
                    r.AddError($"{option.Name} takes powers of two of at least 16, got {v}.");
                    return;
                }
        });
        return option;
    }
}
