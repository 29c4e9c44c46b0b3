using System.CommandLine;
using Rest.Onnx.Bench.Datastore;

namespace Rest.Onnx.Bench.Commands;

/// <summary><c>figures</c>: plain-stopwatch figures (datastore, tokenizers, cost-curve; engine, race and int4 in their own files).</summary>
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
        var rounds = new Option<int>("--rounds") { Description = "measurement rounds (best of)", HelpName = "N", DefaultValueFactory = _ => 3 }.InRange(1, 100);
        var costCurve = new Command("cost-curve",
            "verification cost against rows on a TinyLlama-1.1B-shaped random-weight model (writes ~4.4 GB under .cache once), for the main job's projection column") { rounds };
        costCurve.SetAction(p =>
        {
            EndToEnd.CostCurveFigures.Run(p.InvocationConfiguration.Output, p.GetValue(rounds));
            return Cli.Success;
        });
        return new Command("figures", "plain-stopwatch figures")
        {
            datastore, tokenizers, costCurve, FiguresDatastoreScaleCommand.Create(), FiguresEngineCommand.Create(), FiguresRaceCommand.Create(), FiguresInt4Command.Create(),
            FiguresStepOverheadCommand.Create(), FiguresServeCommand.Create(),
        };
    }
}
