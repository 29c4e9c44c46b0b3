using System.CommandLine;
using System.Globalization;
using Rest.Onnx.Chat;
using Rest.Onnx.Datastore.Format;

namespace Rest.Onnx.Server;

/// <summary>rest-server: the OpenAI-compatible chat server (<c>dotnet run -c Release --project Rest.Onnx.Server -- [options]</c>).</summary>
internal static class Program
{
    private static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the command line with its own output writers (tests pass string writers).</summary>
    internal static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = Cli.Root("rest-server",
            "OpenAI-compatible chat server (POST /v1/chat/completions, GET /v1/models, GET /health) over one loaded model, " +
            "with REST / prompt-lookup drafting. All options are optional; with none it serves the demo model and the demo datastore on 127.0.0.1:8000.");
        var defaults = new ServerOptions();
        var model = new Option<string>("--model") { Description = "exported model folder (rest-model.json) or HF Llama checkpoint (exported on first use) [default: the demo model]", HelpName = "DIR" };
        var datastore = new Option<string>("--datastore") { Description = "datastore for rest/hybrid drafting [default: the demo datastore with the demo model, none otherwise]", HelpName = "FILE" };
        var cache = new Option<string>("--cache") { Description = "cache folder for exports and the demo datastore [default: .cache/demo]", HelpName = "DIR" };
        var host = new Option<string>("--host") { Description = "address to listen on (an IP address or localhost)", HelpName = "ADDRESS", DefaultValueFactory = _ => defaults.Host };
        var port = new Option<int>("--port") { Description = "TCP port (0: any free one)", HelpName = "N", DefaultValueFactory = _ => defaults.Port }.InRange(0, 65535);
        var generators = new Option<int>("--generators") { Description = "generators in the pool: requests run at once (each holds a KV cache)", HelpName = "N", DefaultValueFactory = _ => defaults.Generators }.InRange(1, 256);
        var queue = new Option<int>("--queue") { Description = "requests that may wait for a generator; one more gets 429", HelpName = "N", DefaultValueFactory = _ => defaults.QueueLimit }.InRange(0, 100_000);
        var drafting = Cli.Choice("--drafting", "default drafting (a request may choose its own) [default: hybrid with a datastore, promptlookup without]", "default",
            ("default", (string?)null), ("none", "none"), ("promptlookup", "promptlookup"), ("rest", "rest"), ("hybrid", "hybrid"));
        var budget = Budget();
        var noHistory = Cli.Flag("--no-history", "do not draft from (nor store) past outputs by default [default: the history store, shared by all requests, is on]");
        var maxTokens = new Option<int>("--max-tokens") { Description = "new tokens of a request that names no max_tokens (less where the context leaves less)", HelpName = "N", DefaultValueFactory = _ => defaults.MaxTokens }.InRange(1, int.MaxValue);
        var context = new Option<int>("--context") { Description = "tokens a generator holds, prompt plus reply (0: the model's positions, at most 2048)", HelpName = "N", DefaultValueFactory = _ => 0 }.InRange(0, int.MaxValue);
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0: its choice)", HelpName = "N", DefaultValueFactory = _ => 0 }.InRange(0, 1024);
        var modelId = new Option<string>("--model-id") { Description = "model id in responses and /v1/models [default: demo-model, else the folder's name]", HelpName = "ID" };
        foreach (var option in new Option[] { model, datastore, cache, host, port, generators, queue, drafting.Option, budget, noHistory, maxTokens, context, threads, modelId })
            root.Add(option);

        root.SetAction(async (p, cancellationToken) =>
        {
            var options = defaults with
            {
                Model = p.GetValue(model),
                Datastore = p.GetValue(datastore),
                Cache = p.GetValue(cache),
                Host = p.GetRequiredValue(host),
                Port = p.GetValue(port),
                Generators = p.GetValue(generators),
                QueueLimit = p.GetValue(queue),
                Drafting = drafting.Get(p),
                Budget = p.GetValue(budget),
                History = !p.GetValue(noHistory),
                MaxTokens = p.GetValue(maxTokens),
                Context = p.GetValue(context),
                Threads = p.GetValue(threads),
                ModelId = p.GetValue(modelId),
            };
            try
            {
                ChatServer.ParseHost(options.Host);
            }
            catch (ArgumentException e)
            {
                throw new UsageException(e.Message);
            }
            var log = p.InvocationConfiguration.Output;
            await using var server = await ChatServer.StartAsync(options, log, logRequests: true, cancellationToken);
            var s = server.Service;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Serving '{s.ModelId}' ({s.Model.MaxSequenceLength} tokens of context, template: {s.TemplateName}) at {server.Address}v1 with {s.Pool.Size} generators, a queue of {s.Pool.QueueLimit}, drafting {s.DefaultDrafting}@{(options.Budget == DraftOptions.AutoBudget ? "auto" : options.Budget)}{(options.History ? " + history" : "")}. Ctrl+C stops."));
            await server.WaitForShutdownAsync(cancellationToken);
            return Cli.Success;
        });
        return Cli.Run(root, args, output, error, e => e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or ChatTemplateException or DatastoreFormatException
            or ExecutionProviderUnavailableException or System.Net.Sockets.SocketException);
    }

    /// <summary><c>--budget N|auto</c>: the default draft budget.</summary>
    private static Option<int> Budget()
    {
        var option = new Option<int>("--budget")
        {
            Description = $"default draft budget: auto (chosen per step) or nodes in [1, {GenerationOptions.MaxDraftBudget}]",
            HelpName = "N|auto",
            DefaultValueFactory = _ => DraftOptions.AutoBudget,
        };
        option.CustomParser = r =>
        {
            var text = r.Tokens.Count == 0 ? "auto" : r.Tokens[^1].Value;
            if (text.Equals("auto", StringComparison.OrdinalIgnoreCase)) return DraftOptions.AutoBudget;
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= GenerationOptions.MaxDraftBudget) return n;
            r.AddError($"--budget takes auto or an integer in [1, {GenerationOptions.MaxDraftBudget}], got '{text}'.");
            return 0;
        };
        return option;
    }
}
