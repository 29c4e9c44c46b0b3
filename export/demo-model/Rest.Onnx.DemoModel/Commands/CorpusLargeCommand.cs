using System.CommandLine;
using Rest.Onnx.DemoModel.Corpus;
using Rest.Onnx.DemoModel.Corpus.Large;

namespace Rest.Onnx.DemoModel.Commands;

/// <summary>
/// <c>corpus-large</c>: the large demo datastore (<see cref="LargeCorpus"/>) from Debian packages' Python files:
/// download (apt-get download, no install), extract, exclude (<see cref="CorpusExclusion"/>), tokenize, build.
/// </summary>
internal static class CorpusLargeCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "cache folder for debs/, files/, large.restds and large.manifest.json [default: .cache/large in the repository]", HelpName = "DIR" };
        var packages = new Option<string[]>("--packages")
        {
            Description = $"Debian packages, comma separated or repeated [default: the {LargeCorpusPackages.Default.Count} of docs/demo-model.md]",
            HelpName = "LIST",
            Arity = ArgumentArity.OneOrMore,
        };
        packages.Validators.Add(r =>
        {
            foreach (var token in r.Tokens)
                foreach (var name in token.Value.Split(','))
                    if (name.Trim().Length == 0 || name.Trim().Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '+' or '-' or '.')))
                    {
                        r.AddError($"--packages takes Debian package names (lower-case letters, digits, + - .) separated by commas, got '{token.Value}'.");
                        return;
                    }
        });
        var target = new Option<long>("--tokens-target")
        {
            Description = "the store is the shortest prefix of the corpus order with at least N tokens; fewer in all packages is an error",
            HelpName = "N",
            DefaultValueFactory = _ => LargeCorpusOptions.DefaultTokensTarget,
        }.InRange(1, int.MaxValue);
        var tokenizer = new Option<string>("--tokenizer") { Description = "tokenizer.model or model folder [default: the demo checkpoint's]", HelpName = "PATH" };
        var corpusRoot = DemoOptions.Corpus();
        var prompts = new Option<string[]>("--prompts")
        {
            Description = "prompt files (JSONL) whose prompts no kept file may contain, repeatable [default: dev-prompts.jsonl and dev-prompts-context.jsonl]",
            HelpName = "FILE",
            Arity = ArgumentArity.OneOrMore,
        };
        var force = Cli.Flag("--force", "rebuild even when the manifest shows the same inputs (downloaded packages are still reused)");
        var command = new Command("corpus-large",
            "build the large demo datastore from Debian packages' Python files (downloaded, not installed; held-out and prompt-source copies excluded): " +
            "<dir>/large.restds, large.manifest.json (versions, exclusions, tokens per package, build figures), large.documents.tsv")
        {
            output, packages, target, tokenizer, corpusRoot, prompts, force,
        };
        command.SetAction(p =>
        {
            var names = p.ValueOr(packages, []).SelectMany(v => v.Split(',')).Select(v => v.Trim()).Distinct().ToList();
            var options = new LargeCorpusOptions
            {
                Folder = p.GetValue(output) ?? DemoModelPaths.LargeCorpusCache,
                Tokenizer = p.GetValue(tokenizer) ?? DemoModelPaths.Tokenizer,
                PromptFiles = p.ValueOr(prompts, [DemoModelPaths.DevPrompts, DemoModelPaths.ContextDevPrompts]),
                Packages = names.Count > 0 ? names : LargeCorpusPackages.Default,
                TokensTarget = p.GetValue(target),
                StandardLibraryRoot = p.GetRequiredValue(corpusRoot),
                Force = p.GetValue(force),
            };
            foreach (var file in options.PromptFiles)
                if (!File.Exists(file)) throw new FileNotFoundException($"Prompts file '{file}' does not exist.");
            var path = LargeCorpus.Ensure(options, p.InvocationConfiguration.Error);
            p.InvocationConfiguration.Output.WriteLine(path);
            return Cli.Success;
        });
        return command;
    }
}
