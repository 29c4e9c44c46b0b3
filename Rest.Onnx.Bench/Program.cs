using BenchmarkDotNet.Running;
using Rest.Onnx.Bench.EndToEnd;

// No arguments: the main job on the built-in demo. "bench": BenchmarkDotNet suites. "figures": plain-stopwatch figures.
if (args.Length > 0 && args[0] == "bench")
{
    BenchmarkSwitcher.FromAssembly(typeof(MainJob).Assembly).Run(args[1..]);
    return 0;
}
if (args.Length > 1 && args[0] == "figures" && args[1] == "datastore")
{
    // Plain-stopwatch datastore figures at a size BenchmarkDotNet would take too long for (default 100M tokens).
    var tokens = args.Length > 3 && args[2] == "--tokens" && int.TryParse(args[3], out var n) && n > 0 ? n : 100_000_000;
    Rest.Onnx.Bench.Datastore.DatastoreFigures.Run(Console.Out, tokens);
    return 0;
}
if (args.Length > 1 && args[0] == "figures" && args[1] == "cost-curve")
{
    // Verification cost vs rows on a TinyLlama-1.1B-shaped random-weight model (writes ~4.4 GB under .cache once).
    var rounds = args.Length > 3 && args[2] == "--rounds" && int.TryParse(args[3], out var r) && r > 0 ? r : 3;
    Rest.Onnx.Bench.EndToEnd.CostCurveFigures.Run(Console.Out, rounds);
    return 0;
}
if (args.Length > 0 && args[0] is "--help" or "-h" or "help")
{
    Console.WriteLine(MainJobOptions.Usage);
    return 0;
}
try
{
    return MainJob.Run(MainJobOptions.Parse(args), Console.Out);
}
catch (Exception e) when (e is ArgumentException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or InvalidOperationException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
