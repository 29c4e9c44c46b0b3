using System.CommandLine;
using Rest.Onnx.Bench.Datastore;

namespace Rest.Onnx.Bench.Commands;

/// <summary><c>figures datastore</c>: plain-stopwatch datastore figures at a size BenchmarkDotNet would take too long for.</summary>
internal static class FiguresCommand
{
    public static Command Create()
    {
        var tokens = new Option<int>("--tokens")
        {
            Description = "synthetic corpus size in tokens",
            HelpName = "N",
            DefaultValueFactory = _ => 100_000_000,
        }.InRange(1, int.MaxValue);
        var datastore = new Command("datastore", "datastore build and query figures on a synthetic corpus") { tokens };
        datastore.SetAction(p =>
        {
            DatastoreFigures.Run(p.InvocationConfiguration.Output, p.GetValue(tokens));
            return Cli.Success;
        });
        var tokenizers = new Command("tokenizers", "tokenizer exactness against Hugging Face's golden ids and encode MB/s: TextTokenizer vs Microsoft.ML.Tokenizers");
        tokenizers.SetAction(p =>
        {
            Tokenization.TokenizerFigures.Run(p.InvocationConfiguration.Output);
            return Cli.Success;
        });
        var engine = PassThrough("engine", "greedy step time by cached length and verification cost by rows, per shape, dtype and graph variant (--json)",
            (args, p) => Runtime.EngineFigures.Run(args, p.InvocationConfiguration.Error));
        var race = PassThrough("race", "our engine against onnxruntime-genai on the same weights, threads pinned, set-up outside the timing",
            (args, p) => EndToEnd.EngineRace.Run(args, p.InvocationConfiguration.Error));
        var int4 = PassThrough("int4", "int4 against fp32 on the demo model: logit error and greedy agreement by block size",
            (args, p) => Runtime.Int4Figures.Run(args, p.InvocationConfiguration.Output));
        return new Command("figures", "plain-stopwatch figures") { datastore, tokenizers, engine, race, int4 };
    }

    /// <summary>A verb whose options its runner parses itself (an ArgumentException from it is a usage error, exit 2).</summary>
    private static Command PassThrough(string name, string description, Func<string[], ParseResult, int> run)
    {
        var rest = new Argument<string[]>("options") { Description = "the verb's options (its usage names them)", Arity = ArgumentArity.ZeroOrMore, CaptureRemainingTokens = true };
        var command = new Command(name, description) { rest };
        command.SetAction(p =>
        {
            try { return run(p.GetValue(rest) ?? [], p); }
            catch (ArgumentException e) { throw new UsageException(e.Message); }
        });
        return command;
    }
}
