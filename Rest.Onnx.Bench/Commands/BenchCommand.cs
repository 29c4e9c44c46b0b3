using System.CommandLine;
using BenchmarkDotNet.Running;

namespace Rest.Onnx.Bench.Commands;

/// <summary><c>bench</c>: the BenchmarkDotNet suites; every token after the verb goes to BenchmarkSwitcher unparsed.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var rest = new Argument<string[]>("BenchmarkDotNet args")
        {
            Description = "passed to BenchmarkSwitcher as they are, e.g. --job short --filter '*DraftStep*' (BenchmarkDotNet's own help: bench -- --help)",
            Arity = ArgumentArity.ZeroOrMore,
            CaptureRemainingTokens = true,
        };
        var command = new Command("bench", "micro-benchmarks (BenchmarkDotNet): suffix array build, draft step, verification, generation speed") { rest };
        command.SetAction(p =>
        {
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(p.GetRequiredValue(rest));
            return Cli.Success;
        });
        return command;
    }
}
