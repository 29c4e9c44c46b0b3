using System.CommandLine;
using System.Globalization;
using Rest.Onnx.Bench.EndToEnd;

namespace Rest.Onnx.Bench.Commands;

/// <summary><c>figures datastore-scale</c>: MAT, speedup and draft-step time by datastore size (<see cref="DatastoreScaleFigures"/>).</summary>
internal static class FiguresDatastoreScaleCommand
{
    public static Command Create()
    {
        var defaults = new DatastoreScaleOptions();
        var sizes = new Option<long[]>("--sizes")
        {
            Description = "store sizes in tokens, nested prefixes of the large corpus (N, Nk or NM; comma separated) [default: 1M,3M,10M,30M,100M]",
            HelpName = "N,N,...",
            Arity = ArgumentArity.OneOrMore,
        };
        sizes.CustomParser = r =>
        {
            var values = new List<long>();
            foreach (var token in r.Tokens)
                foreach (var item in token.Value.Split(','))
                {
                    if (ParseSize(item.Trim()) is not { } v)
                    {
                        r.AddError($"--sizes takes token counts (N, Nk or NM, at least 1) separated by commas, got '{token.Value}'.");
                        return [];
                    }
                    values.Add(v);
                }
            return [.. values.Distinct()];
        };
        var noSmall = Cli.Flag("--no-small", "leave out the standard-library store's reference row");
        var sets = FigureOptions.ChoiceList("--prompt-sets", "prompt sets: context (164, 256 new tokens), short (80, 128 new tokens) [default: context,short]",
            ("context", "context"), ("short", "short"));
        var promptCount = new Option<int?>("--prompt-count") { Description = "first N prompts of each set [default: all]", HelpName = "N" }.InRange(1, int.MaxValue);
        var maxNewTokens = new Option<int?>("--max-new-tokens") { Description = "new tokens per prompt in every set [default: context 256, short 128]", HelpName = "N" }.InRange(1, int.MaxValue);
        var budgets = Cli.PositiveIntList("--budgets", "draft budgets for REST and hybrid [default: 64,auto]", ("auto", DraftOptions.AutoBudget));
        var warmup = new Option<int>("--warmup") { Description = "warm-up prompts per run", HelpName = "N", DefaultValueFactory = _ => defaults.Warmup }.InRange(0, int.MaxValue);
        var output = new Option<string>("--out") { Description = "report folder [default: artifacts/datastore-scale]", HelpName = "DIR" };
        var command = new Command("datastore-scale",
            "MAT, speedup over greedy and draft-step p50/p99 by datastore size: nested prefixes of the large corpus (rest-demo-model corpus-large) and the stdlib store")
        {
            sizes, noSmall, sets, promptCount, maxNewTokens, budgets, warmup, output,
        };
        command.SetAction(p => DatastoreScaleFigures.Run(defaults with
        {
            Sizes = p.ValueOr(sizes, [.. defaults.Sizes]),
            Small = !p.GetValue(noSmall),
            PromptSets = p.ValueOr(sets, [.. defaults.PromptSets]),
            PromptCount = p.GetValue(promptCount) ?? 0,
            MaxNewTokens = p.GetValue(maxNewTokens) ?? 0,
            Budgets = p.ValueOr(budgets, [.. defaults.Budgets]),
            Warmup = p.GetValue(warmup),
            Output = p.GetValue(output),
        }, p.InvocationConfiguration.Output));
        return command;
    }

    /// <summary>"3M" = 3,000,000, "500k" = 500,000, "42" = 42; null for anything else or below 1.</summary>
    internal static long? ParseSize(string text)
    {
        var multiplier = 1L;
        if (text.EndsWith('M') || text.EndsWith('m')) { multiplier = 1_000_000; text = text[..^1]; }
        else if (text.EndsWith('k') || text.EndsWith('K')) { multiplier = 1_000; text = text[..^1]; }
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v < 1 || v > int.MaxValue / multiplier) return null;
        return v * multiplier;
    }
}
