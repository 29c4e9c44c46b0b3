using System.CommandLine;
using Rest.Onnx.Bench.EndToEnd;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Bench.Commands;

/// <summary><c>figures race</c>: our engine against onnxruntime-genai on the same weights (<see cref="EngineRace"/>).</summary>
internal static class FiguresRaceCommand
{
    public static Command Create()
    {
        var defaults = new EngineRaceOptions();
        var shapes = FigureOptions.Shapes();
        var dtypes = FigureOptions.DTypes();
        var ours = FigureOptions.ChoiceList("--ours", "our engine's graph variants (plain greedy each, prompt lookup on the last) [default: opset23,gqa]",
            ("opset23", GraphVariant.Opset23), ("gqa", GraphVariant.Gqa));
        var genai = FigureOptions.ChoiceList("--genai", "onnxruntime-genai's graph variants [default: genai,genai-gqa]",
            ("genai", GraphVariant.GenAI), ("genai-gqa", GraphVariant.GenAIGqa));
        var threads = FigureOptions.Threads();
        var runs = new Option<int>("--runs") { Description = "timed runs per engine after a warm-up, alternating between the engines", HelpName = "N", DefaultValueFactory = _ => defaults.Runs }.InRange(1, int.MaxValue);
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "random prompt length", HelpName = "N", DefaultValueFactory = _ => defaults.PromptTokens }.InRange(1, int.MaxValue);
        var newTokens = new Option<int>("--new-tokens") { Description = "greedy tokens per run", HelpName = "N", DefaultValueFactory = _ => defaults.NewTokens }.InRange(1, int.MaxValue);
        var clock = FigureOptions.Clock();
        var json = Cli.Flag("--json", "print the JSON document to stdout");
        var output = new Option<string>("--out") { Description = "write the JSON document to this file", HelpName = "FILE" };
        var command = new Command("race", "our engine against onnxruntime-genai on the same weights, threads pinned, set-up outside the timing")
        {
            shapes, dtypes, ours, genai, threads, runs, promptTokens, newTokens, clock.Option, json, output,
        };
        command.SetAction(p => EngineRace.Run(defaults with
        {
            Shapes = p.ValueOr(shapes, [.. defaults.Shapes]),
            DTypes = p.ValueOr(dtypes, [.. defaults.DTypes]),
            Ours = p.ValueOr(ours, [.. defaults.Ours]),
            GenAI = p.ValueOr(genai, [.. defaults.GenAI]),
            Threads = p.GetValue(threads) ?? defaults.Threads,
            Runs = p.GetValue(runs),
            PromptTokens = p.GetValue(promptTokens),
            NewTokens = p.GetValue(newTokens),
            CpuClock = clock.Get(p),
            Json = p.GetValue(json),
            Out = p.GetValue(output),
        }, p.InvocationConfiguration.Error));
        return command;
    }
}
