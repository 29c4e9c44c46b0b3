using System.CommandLine;
using Rest.Onnx.Bench.EndToEnd;

namespace Rest.Onnx.Bench.Commands;

/// <summary><c>figures serve</c>: the chat server's throughput and latency by concurrent clients (<see cref="ServeFigures"/>).</summary>
internal static class FiguresServeCommand
{
    public static Command Create()
    {
        var defaults = new ServeOptions();
        var clients = Cli.PositiveIntList("--clients", $"concurrent clients of each run [default: {string.Join(',', defaults.Clients)}]");
        var configs = FigureOptions.ChoiceList("--configs", "none (drafting off), hybrid (hybrid@auto), hybrid+history (hybrid@auto with the shared history store) [default: none,hybrid,hybrid+history]",
            ("none", "none"), ("hybrid", "hybrid"), ("hybrid+history", "hybrid+history"));
        var promptCount = new Option<int>("--prompt-count") { Description = "first N dev prompts (0: all)", HelpName = "N", DefaultValueFactory = _ => defaults.PromptCount }.InRange(0, int.MaxValue);
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "new tokens per request", HelpName = "N", DefaultValueFactory = _ => defaults.MaxNewTokens }.InRange(1, 100_000);
        var rounds = new Option<int>("--rounds") { Description = "times each run sends the prompts (the history store drafts from the earlier rounds)", HelpName = "N", DefaultValueFactory = _ => defaults.Rounds }.InRange(1, 1000);
        var warmup = new Option<int>("--warmup") { Description = "unmeasured requests before each run", HelpName = "N", DefaultValueFactory = _ => defaults.Warmup }.InRange(0, 1000);
        var threads = new Option<int>("--threads") { Description = "intra-op threads of the server's model (0: ONNX Runtime's choice)", HelpName = "N", DefaultValueFactory = _ => defaults.Threads }.InRange(0, 1024);
        var output = new Option<string>("--out") { Description = "report folder [default: artifacts/serve]", HelpName = "DIR" };
        var command = new Command("serve",
            "the chat server on loopback: requests/s, tokens/s and latency p50/p99 at each number of concurrent clients, drafting off against hybrid@auto with and without the history store")
        {
            clients, configs, promptCount, maxNewTokens, rounds, warmup, threads, output,
        };
        command.SetAction(p => ServeFigures.Run(defaults with
        {
            Clients = p.ValueOr(clients, [.. defaults.Clients]),
            Configs = p.ValueOr(configs, [.. defaults.Configs]),
            PromptCount = p.GetValue(promptCount),
            MaxNewTokens = p.GetValue(maxNewTokens),
            Rounds = p.GetValue(rounds),
            Warmup = p.GetValue(warmup),
            Threads = p.GetValue(threads),
            Output = p.GetValue(output),
        }, p.InvocationConfiguration.Output));
        return command;
    }
}
