using System.IO.Hashing;
using System.Text;

namespace Rest.Onnx.DemoModel.Corpus;

/// <summary>
/// The demo model's corpus: the Python standard library as Debian's libpython3.11-stdlib installs it,
/// split deterministically into training and held-out files.
/// <para>
/// Selection rule: every regular file named <c>*.py</c> under the root, recursively, except
/// symbolic links (on Debian they point at machine configuration in /etc, not library source),
/// anything inside <c>__pycache__</c>, <c>site-packages</c> or <c>dist-packages</c> folders (third-party
/// code that differs between machines), and files larger than <see cref="MaxFileBytes"/> (only
/// <c>pydoc_data/topics.py</c>, 756 KB of generated help text in a string literal). Test-suite folders are
/// kept: they are ordinary Python code.
/// </para>
/// <para>
/// Split rule: a file is held out when <c>XxHash3(UTF-8 bytes of its relative path) % 20 == 0</c>
/// (about 5% of files). Held-out files serve only for validation loss and dev prompts.
/// </para>
/// Files are ordered ordinally by relative path so every list (and every token array built from it) is
/// the same on every machine with the same files.
/// </summary>
public sealed class DemoCorpus
{
    /// <summary>Where Debian's libpython3.11-stdlib installs the standard library.</summary>
    public const string DefaultRoot = "/usr/lib/python3.11";

    /// <summary>One in this many files (by path hash) is held out.</summary>
    public const int HeldOutModulus = 20;

    /// <summary>Files above this size are generated data, not code, and are skipped.</summary>
    public const long MaxFileBytes = 512 * 1024;

    private static readonly string[] s_skippedFolders = ["__pycache__", "site-packages", "dist-packages"];

    private DemoCorpus(string root, IReadOnlyList<CorpusFile> files)
    {
        Root = root;
        Files = files;
        Training = [.. files.Where(f => !f.IsHeldOut)];
        HeldOut = [.. files.Where(f => f.IsHeldOut)];
    }

    /// <summary>The scanned root folder (absolute).</summary>
    public string Root { get; }

    /// <summary>All selected files, ordinally sorted by relative path.</summary>
    public IReadOnlyList<CorpusFile> Files { get; }

    /// <summary>Files for training the model and building the demo datastore.</summary>
    public IReadOnlyList<CorpusFile> Training { get; }

    /// <summary>Files for validation loss and dev prompts only.</summary>
    public IReadOnlyList<CorpusFile> HeldOut { get; }

    /// <summary>The split rule: true when a file with this relative path is held out.</summary>
    public static bool IsHeldOut(string relativePath)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        var hash = XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(relativePath.Replace('\\', '/')));
        return hash % HeldOutModulus == 0;
    }

    /// <summary>Scans <paramref name="root"/> with the selection rule above.</summary>
    /// <exception cref="DirectoryNotFoundException">The root folder does not exist.</exception>
    /// <exception cref="InvalidDataException">The root holds no Python files.</exception>
    public static DemoCorpus Scan(string root = DefaultRoot)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        var full = Path.GetFullPath(root);
        if (!Directory.Exists(full))
            throw new DirectoryNotFoundException($"Corpus root '{full}' does not exist (Debian installs the standard library there with libpython3.11-stdlib).");

        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            AttributesToSkip = FileAttributes.ReparsePoint,
            IgnoreInaccessible = true,
            MatchCasing = MatchCasing.CaseSensitive,
        };
        var files = new List<CorpusFile>();
        foreach (var path in Directory.EnumerateFiles(full, "*.py", options))
        {
            var relative = Path.GetRelativePath(full, path).Replace('\\', '/');
            if (relative.Split('/').Any(part => s_skippedFolders.Contains(part, StringComparer.Ordinal))) continue;
            var info = new FileInfo(path);
            if (info.LinkTarget is not null || info.Length > MaxFileBytes) continue;
            files.Add(new CorpusFile(relative, path, info.Length, IsHeldOut(relative)));
        }
        if (files.Count == 0) throw new InvalidDataException($"Corpus root '{full}' holds no *.py files.");
        files.Sort((a, b) => string.CompareOrdinal(a.RelativePath, b.RelativePath));
        return new DemoCorpus(full, files);
    }
}
