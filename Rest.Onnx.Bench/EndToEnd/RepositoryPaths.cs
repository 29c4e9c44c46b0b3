using Rest.Onnx.DemoModel;

namespace Rest.Onnx.Bench.EndToEnd;

/// <summary>The main job's default paths, inside the repository (<see cref="DemoModelPaths"/> finds it).</summary>
internal static class RepositoryPaths
{
    public static string Root => DemoModelPaths.RepositoryRoot;

    public static string DemoCheckpoint => DemoModelPaths.Checkpoint;

    public static string DemoPrompts => DemoModelPaths.DevPrompts;

    public static string DefaultCache => DemoModelPaths.DefaultCache;

    public static string LargeCache => DemoModelPaths.LargeCorpusCache;

    public static string DefaultOutput => Path.Combine(Root, "artifacts", "main-job");
}
