using System.CommandLine;
using System.Globalization;
using Rest.Onnx.Bench.EndToEnd;
using Rest.Onnx.Datastore.Search;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Bench.Commands;

/// <summary>The main job's options on the root command (the root's action runs the main job).</summary>
internal static class MainJobCommand
{
    private static readonly string[] KnownStrategies = ["none", "rest", "promptlookup", "hybrid", "genai"];

    public static void Configure(Command root)
    {
        var defaults = new MainJobOptions();
        var model = new Option<string>("--model") { Description = "HF Llama checkpoint folder (exported on first use) or exported folder (rest-model.json) [default: the demo model]", HelpName = "PATH" };
        var datastore = new Option<string>("--datastore") { Description = "datastore to draft from [default: demo datastore, built on first use]", HelpName = "FILE" };
        var datastoreSize = Cli.Choice("--datastore-size",
            "without --datastore: small = the standard library (3.3M tokens, .cache/demo); large = 100M tokens of Debian packages' Python in the demo tokenizer (rest-demo-model corpus-large; built once into .cache/large)",
            "small", ("small", false), ("large", true));
        var corpus = new Option<string[]>("--corpus") { Description = "extra *.py files/folders for the demo datastore (repeatable)", HelpName = "PATH", Arity = ArgumentArity.OneOrMore };
        var prompts = new Option<string>("--prompts") { Description = "JSONL with a \"prompt\" field per line [default: demo dev prompts]", HelpName = "FILE" };
        var promptCount = new Option<int?>("--prompt-count") { Description = "first N prompts only [default: all]", HelpName = "N" }.InRange(1, int.MaxValue);
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "tokens per prompt", HelpName = "N", DefaultValueFactory = _ => defaults.MaxNewTokens }.InRange(1, int.MaxValue);
        var truncatePrompts = Cli.Flag("--truncate-prompts", "keep the end of a prompt too long for the model's positions [default: skip it, named and counted]");
        var strategies = Strategies(defaults.Strategies);
        var budgets = Budgets(defaults.Budgets);
        var noHistory = Cli.Flag("--no-history", "skip the +history@auto configs (drafts from past outputs too)");
        var repeat = new Option<int>("--repeat") { Description = "run the prompt list N times in a row (a workload that repeats itself)", HelpName = "N", DefaultValueFactory = _ => defaults.Repeat }.InRange(1, 1000);
        var draftMode = Cli.Choice("--draft-mode", "exact: all occurrences; sampled: the reference, the first k=5000 occurrences", "exact",
            ("exact", DraftMode.Exact), ("sampled", DraftMode.Sampled));
        var minShare = new Option<double>("--min-share")
        {
            Description = "drop draft nodes seen in under this share of the continuations (0 = the reference)",
            HelpName = "X",
            DefaultValueFactory = _ => defaults.MinShare,
        }.InRange(0.0, 1.0);
        var ep = Cli.Choice("--ep", "execution provider", defaults.ExecutionProvider, ("cpu", "cpu"), ("cuda", "cuda"), ("auto", "auto"));
        var threads = new Option<int>("--threads") { Description = "intra-op threads of both engines, pinned equal (0: one per core)", HelpName = "N", DefaultValueFactory = _ => defaults.Threads }.InRange(0, 1024);
        var variant = Cli.Choice("--variant", "graph variant the demo checkpoint is exported in", "gqa",
            ("gqa", GraphVariant.Gqa), ("opset23", GraphVariant.Opset23));
        var warmup = new Option<int>("--warmup") { Description = "warm-up prompts", HelpName = "N", DefaultValueFactory = _ => defaults.Warmup }.InRange(0, int.MaxValue);
        var output = new Option<string>("--out") { Description = "report folder [default: artifacts/main-job]", HelpName = "DIR" };
        var cache = new Option<string>("--cache") { Description = "cache folder for the exported model and datastore [default: .cache/demo]", HelpName = "DIR" };
        foreach (var option in new Option[] { model, datastore, datastoreSize.Option, corpus, prompts, promptCount, maxNewTokens, truncatePrompts, strategies, budgets, noHistory, repeat, draftMode.Option, minShare, ep.Option, threads, variant.Option, warmup, output, cache })
            root.Add(option);

        root.SetAction(p => MainJob.Run(defaults with
        {
            Model = p.GetValue(model),
            Datastore = p.GetValue(datastore),
            LargeDatastore = datastoreSize.Get(p),
            ExtraCorpus = p.ValueOr(corpus, []),
            Prompts = p.GetValue(prompts),
            PromptCount = p.GetValue(promptCount) ?? 0,
            MaxNewTokens = p.GetValue(maxNewTokens),
            TruncatePrompts = p.GetValue(truncatePrompts),
            Strategies = p.ValueOr(strategies, [.. defaults.Strategies]),
            Budgets = p.ValueOr(budgets, [.. defaults.Budgets]),
            History = !p.GetValue(noHistory),
            Repeat = p.GetValue(repeat),
            DraftMode = draftMode.Get(p),
            MinShare = p.GetValue(minShare),
            ExecutionProvider = ep.Get(p),
            Threads = p.GetValue(threads),
            Variant = variant.Get(p),
            Warmup = p.GetValue(warmup),
            Output = p.GetValue(output),
            Cache = p.GetValue(cache),
        }, p.InvocationConfiguration.Output));
    }

    /// <summary><c>--strategies rest,hybrid</c>: known names, comma separated or repeated; none (the reference) always runs.
    /// No default value in the option (help would print it as none|rest|...): read it with <see cref="Cli.ValueOr{T}"/>.</summary>
    private static Option<string[]> Strategies(IReadOnlyList<string> defaultValue)
    {
        var option = new Option<string[]>("--strategies")
        {
            Description = $"comma list of {string.Join(",", KnownStrategies)}; none (the reference) always runs [default: {string.Join(',', defaultValue)}]",
            HelpName = "LIST",
            Arity = ArgumentArity.OneOrMore,
        };
        option.CustomParser = r =>
        {
            var list = new List<string> { "none" };
            foreach (var token in r.Tokens)
                foreach (var item in token.Value.Split(','))
                {
                    var name = item.Trim().ToLowerInvariant();
                    if (!KnownStrategies.Contains(name))
                    {
                        r.AddError($"--strategies takes {string.Join(", ", KnownStrategies)} separated by commas, got '{token.Value}'.");
                        return [];
                    }
                    list.Add(name);
                }
            return [.. list.Distinct()];
        };
        return option;
    }

    /// <summary><c>--budgets 4,8,auto</c>: positive integers or <c>auto</c> (chosen per step), comma separated or repeated.</summary>
    private static Option<int[]> Budgets(IReadOnlyList<int> defaultValue)
    {
        static string Name(int b) => b == DraftOptions.AutoBudget ? "auto" : b.ToString(CultureInfo.InvariantCulture);
        return Cli.PositiveIntList("--budgets",
            $"draft budgets to sweep, comma separated or repeated; auto = chosen per step from the measured cost of rows [default: {string.Join(',', defaultValue.Select(Name))}]",
            ("auto", DraftOptions.AutoBudget));
    }
}
