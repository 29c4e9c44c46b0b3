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
if (args.Length > 1 && args[0] == "figures" && args[1] == "engine")
{
    try { return Rest.Onnx.Bench.Runtime.EngineFigures.Run(args[2..], Console.Error); }
    catch (ArgumentException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }
}
if (args.Length > 1 && args[0] == "figures" && args[1] == "race")
{
    try { return Rest.Onnx.Bench.EndToEnd.EngineRace.Run(args[2..], Console.Error); }
    catch (ArgumentException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }
}
if (args.Length > 1 && args[0] == "figures" && args[1] == "int4")
{
    try { return Rest.Onnx.Bench.Runtime.Int4Figures.Run(args[2..], Console.Out); }
    catch (ArgumentException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }
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
