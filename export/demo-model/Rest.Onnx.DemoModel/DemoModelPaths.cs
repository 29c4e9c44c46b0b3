namespace Rest.Onnx.DemoModel;

/// <summary>
/// The one lookup of the repository root (the folder holding Rest.Onnx.sln) and of the committed demo-model
/// files in it, shared by the tests and the bench so both run from any working directory.
/// </summary>
public static class DemoModelPaths
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>The repository root.</summary>
    /// <exception cref="DirectoryNotFoundException">Neither the program's folder nor the working directory is inside the repository.</exception>
    public static string RepositoryRoot => Root.Value;

    /// <summary>The committed checkpoint (Hugging Face layout).</summary>
    public static string Checkpoint => Path.Combine(RepositoryRoot, "export", "demo-model", "checkpoint");

    /// <summary>The checkpoint's SentencePiece tokenizer.</summary>
    public static string Tokenizer => Path.Combine(Checkpoint, "tokenizer.model");

    /// <summary>The dev prompts (held-out functions to continue).</summary>
    public static string DevPrompts => Path.Combine(RepositoryRoot, "export", "demo-model", "dev-prompts.jsonl");

    /// <summary>Where the exported demo model and the demo datastore are cached (<c>.cache/demo</c>, git-ignored).</summary>
    public static string DefaultCache => Path.Combine(RepositoryRoot, ".cache", "demo");

    /// <summary>The context dev prompts (whole preceding functions, then a signature and docstring).</summary>
    public static string ContextDevPrompts => Path.Combine(RepositoryRoot, "export", "demo-model", "dev-prompts-context.jsonl");

    /// <summary>The large demo datastore's cache folder (downloaded packages, their files, the store).</summary>
    public static string LargeCorpusCache => Path.Combine(RepositoryRoot, ".cache", "large");

    private static string FindRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Rest.Onnx.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException(
            "Cannot find the repository root (Rest.Onnx.sln) above the program or the working directory; run from inside the repository or pass the paths explicitly.");
    }
}
