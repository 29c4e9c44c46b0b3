using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Rest.Onnx.Tests.Tokenization;

namespace Rest.Onnx.Tests.PublicApi;

/// <summary>
/// The README's C# examples compile as written against the libraries, in a console app with the SDK's implicit
/// usings (as <c>dotnet new console</c> makes it) and no other usings than their own.
/// </summary>
public partial class ReadmeExampleTests
{
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    [GeneratedRegex("```csharp\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    [Test]
    public void EveryCSharpBlockCompiles()
    {
        var readme = File.ReadAllText(Path.Combine(TokenizerTestFiles.RepositoryRoot, "README.md")).Replace("\r\n", "\n", StringComparison.Ordinal);
        var blocks = CSharpBlock().Matches(readme).Select(m => m.Groups[1].Value).ToList();
        Assert.That(blocks, Is.Not.Empty, "README.md has no ```csharp block");
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Select(path => MetadataReference.CreateFromFile(path))
            .ToList();
        for (var i = 0; i < blocks.Count; i++)
        {
            var tree = CSharpSyntaxTree.ParseText(blocks[i], new CSharpParseOptions(LanguageVersion.Latest), path: $"README block {i + 1}");
            var usings = CSharpSyntaxTree.ParseText(ImplicitUsings, new CSharpParseOptions(LanguageVersion.Latest));
            var compilation = CSharpCompilation.Create($"Readme{i}", [usings, tree], references,
                new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
            using var output = new MemoryStream();
            var emitted = compilation.Emit(output);
            var errors = emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
            Assert.That(errors, Is.Empty, $"README C# block {i + 1} does not compile:\n{blocks[i]}");
        }
    }
}
