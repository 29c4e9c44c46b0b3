using System.CommandLine;
using Rest.Onnx.Bench.Runtime;

namespace Rest.Onnx.Bench.Commands;

/// <summary><c>figures int4</c>: int4 against fp32 on the demo model (<see cref="Int4Figures"/>).</summary>
internal static class FiguresInt4Command
{
    public static Command Create()
    {
        var defaults = new Int4FiguresOptions();
        var blockSizes = Cli.PositiveIntList("--block-sizes", $"int4 block sizes (powers of two, at least 16) [default: {string.Join(',', defaults.BlockSizes)}]").PowerOfTwoBlocks();
        var accuracyLevels = FigureOptions.ChoiceList("--accuracy-levels",
            $"MatMulNBits accuracy levels (0: float compute, 4: int8 activations) [default: {string.Join(',', defaults.AccuracyLevels)}]",
            ("0", 0), ("1", 1), ("2", 2), ("3", 3), ("4", 4));
        var newTokens = new Option<int>("--new-tokens") { Description = "greedy tokens per prompt", HelpName = "N", DefaultValueFactory = _ => defaults.NewTokens }.InRange(1, int.MaxValue);
        var prompts = new Option<int>("--prompts") { Description = "the first N dev prompts (0: all)", HelpName = "N", DefaultValueFactory = _ => defaults.Prompts }.InRange(0, int.MaxValue);
        var threads = FigureOptions.Threads();
        var command = new Command("int4", "int4 against fp32 on the demo model: logit error and greedy agreement by block size")
        {
            blockSizes, accuracyLevels, newTokens, prompts, threads,
        };
        command.SetAction(p => Int4Figures.Run(defaults with
        {
            BlockSizes = p.ValueOr(blockSizes, [.. defaults.BlockSizes]),
            AccuracyLevels = p.ValueOr(accuracyLevels, [.. defaults.AccuracyLevels]),
            NewTokens = p.GetValue(newTokens),
            Prompts = p.GetValue(prompts),
            Threads = p.GetValue(threads) ?? defaults.Threads,
        }, p.InvocationConfiguration.Output));
        return command;
    }
}
