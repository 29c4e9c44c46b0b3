using System.CommandLine;
using Rest.Onnx.Bench.Runtime;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Bench.Commands;

/// <summary><c>figures step-overhead</c>: the engine's verification step against a bare ONNX Runtime run (<see cref="StepOverheadFigures"/>).</summary>
internal static class FiguresStepOverheadCommand
{
    public static Command Create()
    {
        var defaults = new StepOverheadOptions();
        var models = FigureOptions.ChoiceList("--models", "models: demo (the demo checkpoint) and/or small (BenchModel.Small, random weights) [default: demo,small]",
            ("demo", "demo"), ("small", "small"));
        var variants = FigureOptions.ChoiceList("--variants", "runtime graph variants [default: opset23,gqa]",
            ("opset23", GraphVariant.Opset23), ("gqa", GraphVariant.Gqa));
        var contexts = Cli.PositiveIntList("--contexts", $"cached lengths (lowered to fit a model's positions) [default: {string.Join(',', defaults.Contexts)}]");
        var rows = Cli.PositiveIntList("--rows", $"rows verified per step (root + draft nodes) [default: {string.Join(',', defaults.Rows)}]");
        var reps = new Option<int>("--reps") { Description = "timed reps per figure after three warm-up reps; medians reported", HelpName = "N", DefaultValueFactory = _ => defaults.Reps }.InRange(1, 100_000);
        var threads = FigureOptions.Threads();
        var clock = FigureOptions.Clock();
        var json = Cli.Flag("--json", "print the JSON document to stdout");
        var output = new Option<string>("--out") { Description = "write the JSON document to this file", HelpName = "FILE" };
        var command = new Command("step-overhead",
            "the engine's verification step (split into ids, mask, binding, run, read-back, acceptance, compaction) against a bare ONNX Runtime run of the same rows, interleaved")
        {
            models, variants, contexts, rows, reps, threads, clock.Option, json, output,
        };
        command.SetAction(p => StepOverheadFigures.Run(defaults with
        {
            Models = p.ValueOr(models, [.. defaults.Models]),
            Variants = p.ValueOr(variants, [.. defaults.Variants]),
            Contexts = p.ValueOr(contexts, [.. defaults.Contexts]),
            Rows = p.ValueOr(rows, [.. defaults.Rows]),
            Reps = p.GetValue(reps),
            Threads = p.GetValue(threads) ?? defaults.Threads,
            CpuClock = clock.Get(p),
            Json = p.GetValue(json),
            Out = p.GetValue(output),
        }, p.InvocationConfiguration.Error));
        return command;
    }
}
