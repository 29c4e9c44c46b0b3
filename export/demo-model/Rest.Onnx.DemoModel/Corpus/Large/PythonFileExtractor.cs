using System.Formats.Tar;

namespace Rest.Onnx.DemoModel.Corpus.Large;

/// <summary>What one package's archive gave.</summary>
/// <param name="Files">Python files written, as paths relative to the package's folder ('/'-separated), in archive order.</param>
/// <param name="Bytes">Their total size.</param>
/// <param name="SkippedUnsafe">Entries refused for their path (absolute, or climbing out with '..').</param>
public sealed record ExtractedPackage(IReadOnlyList<string> Files, long Bytes, int SkippedUnsafe);

/// <summary>
/// Copies the Python source files (<c>*.py</c>) of a package's file-system tar (what <c>dpkg-deb --fsys-tarfile</c>
/// writes) into a folder. Regular files only: links, folders and devices are never created, and an entry whose path
/// is absolute or climbs out of the folder is refused and counted, so a hostile archive cannot write elsewhere.
/// Files inside <c>__pycache__</c> are skipped (bytecode caches hold no source anyway). Size and content are not
/// judged here: <see cref="CorpusExclusion"/> does that, in one place.
/// </summary>
public static class PythonFileExtractor
{
    /// <summary>Reads a tar stream and writes its <c>*.py</c> regular files under <paramref name="destination"/>.</summary>
    /// <exception cref="InvalidDataException">The stream is not a readable tar archive.</exception>
    public static ExtractedPackage Extract(Stream tar, string destination)
    {
        ArgumentNullException.ThrowIfNull(tar);
        var root = Path.GetFullPath(destination);
        Directory.CreateDirectory(root);
        var files = new List<string>();
        long bytes = 0;
        var unsafePaths = 0;
        using var reader = new TarReader(tar, leaveOpen: true);
        while (true)
        {
            TarEntry? entry;
            try { entry = reader.GetNextEntry(copyData: false); }
            catch (Exception e) when (e is FormatException or EndOfStreamException)
            {
                throw new InvalidDataException($"Not a readable tar archive: {e.Message}", e);
            }
            if (entry is null) break;
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
            var relative = RelativePath(entry.Name);
            if (!relative.EndsWith(".py", StringComparison.Ordinal)) continue;
            if (relative.Split('/').Contains("__pycache__", StringComparer.Ordinal)) continue;
            var target = Path.GetFullPath(Path.Combine(root, relative));
            if (relative.StartsWith('/') || relative.Split('/').Contains("..", StringComparer.Ordinal)
                || !target.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                unsafePaths++;
                continue;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            using (var output = new FileStream(target, FileMode.Create, FileAccess.Write))
                entry.DataStream?.CopyTo(output);
            files.Add(relative);
            bytes += entry.Length;
        }
        return new ExtractedPackage(files, bytes, unsafePaths);
    }

    // "./usr/lib/python3/dist-packages/x.py" -> "usr/lib/python3/dist-packages/x.py"
    private static string RelativePath(string name)
    {
        var path = name.Replace('\\', '/');
        while (path.StartsWith("./", StringComparison.Ordinal)) path = path[2..];
        return path;
    }
}
