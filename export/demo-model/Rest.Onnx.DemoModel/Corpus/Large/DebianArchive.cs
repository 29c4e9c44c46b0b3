using System.Diagnostics;

namespace Rest.Onnx.DemoModel.Corpus.Large;

/// <summary>A downloaded Debian package.</summary>
/// <param name="Name">Package name.</param>
/// <param name="Version">Its version, from the package's own control data.</param>
/// <param name="DebFile">The .deb file.</param>
public sealed record DebianPackage(string Name, string Version, string DebFile);

/// <summary>
/// Fetches Debian packages without installing them and reads their files, through Debian's own tools:
/// <c>apt-get download</c> (no root needed; the machine's apt sources and lists decide the version) and
/// <c>dpkg-deb</c>, which unpacks whatever compression the package uses (bookworm's are xz, which .NET does not
/// read) into a plain tar stream that <see cref="PythonFileExtractor"/> reads with System.Formats.Tar.
/// </summary>
public static class DebianArchive
{
    /// <summary>
    /// The package's .deb in <paramref name="folder"/>: the one there already (the folder is a download cache; the
    /// newest if several), else downloaded by <c>apt-get download</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">apt-get or dpkg-deb failed (its message is named).</exception>
    public static DebianPackage Fetch(string name, string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Directory.CreateDirectory(folder);
        var deb = Cached(name, folder);
        if (deb is null)
        {
            Run("apt-get", ["download", "-q", name], folder, $"downloading package '{name}' (apt-get update may be needed first, or the name is not in the machine's apt sources)");
            deb = Cached(name, folder) ?? throw new InvalidOperationException($"apt-get download {name} left no {name}_*.deb in '{folder}'.");
        }
        var version = Run("dpkg-deb", ["--field", deb, "Version"], folder, $"reading the version of '{deb}'").Trim();
        return new DebianPackage(name, version, deb);
    }

    /// <summary>Writes the package's <c>*.py</c> files under <paramref name="destination"/> (see <see cref="PythonFileExtractor"/>).</summary>
    /// <exception cref="InvalidOperationException">dpkg-deb failed: the file is not a Debian package.</exception>
    public static ExtractedPackage ExtractPython(string debFile, string destination)
    {
        var start = new ProcessStartInfo("dpkg-deb")
        {
            ArgumentList = { "--fsys-tarfile", debFile },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Start(start, "dpkg-deb");
        var error = process.StandardError.ReadToEndAsync();
        ExtractedPackage extracted;
        try
        {
            extracted = PythonFileExtractor.Extract(process.StandardOutput.BaseStream, destination);
        }
        catch (InvalidDataException e)
        {
            process.WaitForExit();
            throw new InvalidOperationException($"dpkg-deb --fsys-tarfile {debFile}: {error.Result.Trim()} ({e.Message})", e);
        }
        process.StandardOutput.BaseStream.CopyTo(Stream.Null);
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"dpkg-deb --fsys-tarfile {debFile} failed (exit {process.ExitCode}): {error.Result.Trim()}");
        return extracted;
    }

    private static string? Cached(string name, string folder)
        => Directory.EnumerateFiles(folder, $"{name}_*.deb").OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault();

    private static string Run(string tool, string[] arguments, string workingDirectory, string what)
    {
        var start = new ProcessStartInfo(tool)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Start(start, tool);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"Failed {what}: {tool} exited with {process.ExitCode}: {string.Join(' ', error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l.StartsWith("E:", StringComparison.Ordinal)).DefaultIfEmpty(error.Trim()))}");
        return output.Result;
    }

    private static Process Start(ProcessStartInfo start, string tool)
    {
        try
        {
            return Process.Start(start) ?? throw new InvalidOperationException($"Could not start {tool}.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"Could not start {tool} ({e.Message}); the large corpus needs Debian's apt-get and dpkg-deb.", e);
        }
    }
}
