using System.CommandLine;
using Rest.Onnx.Bench.Runtime;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Bench.Commands;

/// <summary><c>figures engine</c>: greedy step time by cached length and verification cost by rows (<see cref="EngineFigures"/>).</summary>
internal static class FiguresEngineCommand
{
    public static Command Create()
    {
        var defaults = new EngineFiguresOptions();
        var json = Cli.Flag("--json", "print the JSON document to stdout");
        var shapes = FigureOptions.Shapes();
        var dtypes = FigureOptions.DTypes();
        var variants = FigureOptions.ChoiceList("--variants", "runtime graph variants, measured interleaved [default: opset23,gqa]",
            ("opset23", GraphVariant.Opset23), ("gqa", GraphVariant.Gqa));
        var threads = FigureOptions.Threads();
        var reps = new Option<int?>("--reps") { Description = "timed runs per figure, the median reported [default: 15 small, 3 1b]", HelpName = "N" }.InRange(1, int.MaxValue);
        var contexts = Cli.PositiveIntList("--contexts", $"cached lengths of the greedy-step figure [default: {string.Join(',', defaults.Contexts)}]");
        var output = new Option<string>("--out") { Description = "write the JSON document to this file", HelpName = "FILE" };
        var prepareOnly = Cli.Flag("--prepare-only", "export the models (cached under .cache/engine-figures/) and stop");
        var noGeneration = Cli.Flag("--no-generation", "skip the small shape's real greedy generation to 4,096 tokens");
        var blockSize = new Option<int>("--block-size")
        {
            Description = "int4 only: values per 4-bit block sharing one scale (a power of two, at least 16)",
            HelpName = "N",
            DefaultValueFactory = _ => defaults.BlockSize,
        }.InRange(16, 1 << 20).PowerOfTwoBlocks();
        var accuracyLevel = new Option<int>("--accuracy-level") { Description = "int4 only: MatMulNBits accuracy_level (0: float compute, 4: int8 activations)", HelpName = "0|4" }.InRange(0, 4);
        var clock = FigureOptions.Clock();
        var command = new Command("engine", "greedy step time by cached length and verification cost by rows, per shape, dtype and graph variant (--json)")
        {
            json, shapes, dtypes, variants, threads, reps, contexts, output, prepareOnly, noGeneration, blockSize, accuracyLevel, clock.Option,
        };
        command.SetAction(p => EngineFigures.Run(defaults with
        {
            Json = p.GetValue(json),
            Shapes = p.ValueOr(shapes, [.. defaults.Shapes]),
            DTypes = p.ValueOr(dtypes, [.. defaults.DTypes]),
            Variants = p.ValueOr(variants, [.. defaults.Variants]),
            Threads = p.GetValue(threads) ?? defaults.Threads,
            Reps = p.GetValue(reps),
            Contexts = p.ValueOr(contexts, [.. defaults.Contexts]),
            Out = p.GetValue(output),
            PrepareOnly = p.GetValue(prepareOnly),
            Generate = !p.GetValue(noGeneration),
            BlockSize = p.GetValue(blockSize),
            AccuracyLevel = p.GetValue(accuracyLevel),
            CpuClock = clock.Get(p),
        }, p.InvocationConfiguration.Error));
        return command;
    }
}
