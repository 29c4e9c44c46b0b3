using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;
using Rest.Onnx.Tests.Tokenization;

namespace Rest.Onnx.Tests.Packaging;

/// <summary>
/// The libraries pack as NuGet packages and the tools as .NET tools that install and run, as users consume them.
/// Packs the already-built Release outputs (<c>--no-build</c>) into a temporary folder and installs from there only.
/// </summary>
[Category("Packaging")]
public class PackageTests
{
    private string _folder = "";

    [OneTimeSetUp]
    public void CreateFolder() => _folder = Directory.CreateTempSubdirectory("rest-onnx-pack-").FullName;

    [OneTimeTearDown]
    public void DeleteFolder()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    [Test]
    public void ToolPacksInstallsAndRuns()
    {
        var feed = Path.Combine(_folder, "feed");
        Pack(Path.Combine("datastore", "Rest.Onnx.Datastore.Tool", "Rest.Onnx.Datastore.Tool.csproj"), feed);
        var package = Directory.GetFiles(feed, "rest-datastore.*.nupkg").Single(p => !p.EndsWith(".snupkg", StringComparison.Ordinal));
        Assert.That(Directory.GetFiles(feed, "rest-datastore.*.snupkg"), Has.Length.EqualTo(1), "symbols package");

        // A config with only the local folder, so the install proves the tool package carries everything it needs.
        var config = Path.Combine(_folder, "nuget.config");
        File.WriteAllText(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        var tools = Path.Combine(_folder, "tools");
        var version = XDocument.Load(ZipFile.OpenRead(package).GetEntry("rest-datastore.nuspec")!.Open())
            .Descendants().First(e => e.Name.LocalName == "version").Value;
        Run("dotnet", ["tool", "install", "--tool-path", tools, "--configfile", config, "rest-datastore", "--version", version], _folder);
        var (code, output) = Run(Path.Combine(tools, "rest-datastore"), ["--help"], _folder);
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("rest-datastore"));
    }

    [Test]
    public void RuntimeLibraryPacksWithMetadataAndDependencies()
    {
        var feed = Path.Combine(_folder, "lib");
        Pack(Path.Combine("Rest.Onnx", "Rest.Onnx", "Rest.Onnx.csproj"), feed);
        var package = Directory.GetFiles(feed, "Rest.Onnx.*.nupkg").Single(p => !p.EndsWith(".snupkg", StringComparison.Ordinal));
        using var zip = ZipFile.OpenRead(package);
        Assert.That(zip.GetEntry("README.md"), Is.Not.Null, "package readme");
        Assert.That(zip.Entries.Any(e => e.FullName == "lib/net10.0/Rest.Onnx.dll"), "library");
        Assert.That(zip.Entries.Any(e => e.FullName == "lib/net10.0/Rest.Onnx.xml"), "XML docs");
        var nuspec = XDocument.Load(zip.GetEntry("Rest.Onnx.nuspec")!.Open());
        string Value(string name) => nuspec.Descendants().First(e => e.Name.LocalName == name).Value;
        Assert.That(Value("license"), Is.EqualTo("MIT"));
        Assert.That(Value("readme"), Is.EqualTo("README.md"));
        var dependencies = nuspec.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => e.Attribute("id")!.Value).ToList();
        Assert.That(dependencies, Is.SupersetOf(new[] { "Rest.Onnx.Drafting", "Rest.Onnx.Manifest", "Rest.Onnx.Tokenization", "Rest.Onnx.Datastore", "Microsoft.ML.OnnxRuntime.Gpu" }));
    }

    private static void Pack(string project, string output)
    {
        var (code, log) = Run("dotnet", ["pack", Path.Combine(TokenizerTestFiles.RepositoryRoot, project), "-c", "Release", "--no-build", "-o", output],
            TokenizerTestFiles.RepositoryRoot);
        Assert.That(code, Is.Zero, log);
    }

    private static (int Code, string Output) Run(string file, string[] arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5))) process.Kill(entireProcessTree: true);
        var output = stdout + stderr.Result;
        return (process.ExitCode, output);
    }
}
