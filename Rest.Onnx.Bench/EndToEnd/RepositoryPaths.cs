namespace Rest.Onnx.Bench.EndToEnd;

/// <summary>Finds the repository (the folder holding Rest.Onnx.sln) so the main job runs from any working directory.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string DemoCheckpoint => Path.Combine(Root, "export", "demo-model", "checkpoint");

    public static string DemoPrompts => Path.Combine(Root, "export", "demo-model", "dev-prompts.jsonl");

    public static string DefaultCache => Path.Combine(Root, ".cache", "demo");

    public static string DefaultOutput => Path.Combine(Root, "artifacts", "main-job");

    private static string FindRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Rest.Onnx.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException(
            "Cannot find the repository root (Rest.Onnx.sln) above the working directory or the program; run from inside the repository or pass --model, --datastore, --prompts, --out and --cache.");
    }
}
