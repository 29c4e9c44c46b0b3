using System.Reflection;
using PublicApiGenerator;
using Rest.Onnx.Datastore.Reading;
using Rest.Onnx.Export;
using Rest.Onnx.Manifest;
using Rest.Onnx.Tests.Tokenization;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.Tests.PublicApi;

/// <summary>
/// Pins each library's public API: it is rendered and compared with the committed <c>*.approved.txt</c>, so every
/// change to it shows up in review. After an intended change, run the tests with REST_ONNX_ACCEPT_API=1 (or copy
/// the <c>.received.txt</c> written beside the approved file over it) and commit the new file.
/// </summary>
public class PublicApiTests
{
    private static readonly Assembly[] Libraries =
    [
        typeof(RestModel).Assembly,
        typeof(DraftTree).Assembly,
        typeof(ModelManifest).Assembly,
        typeof(TextTokenizer).Assembly,
        typeof(DatastoreReader).Assembly,
        typeof(LlamaExporter).Assembly,
        typeof(Rest.Onnx.Chat.ChatTemplate).Assembly,
    ];

    private static IEnumerable<string> LibraryNames() => Libraries.Select(a => a.GetName().Name!);

    [TestCaseSource(nameof(LibraryNames))]
    public void PublicApiIsApproved(string name)
    {
        var assembly = Libraries.Single(a => a.GetName().Name == name);
        var api = Normalize(assembly.GeneratePublicApi(new ApiGeneratorOptions
        {
            IncludeAssemblyAttributes = false,
            // Compiler-generated state-machine names change with unrelated edits; they are not API.
            ExcludeAttributes = ["System.Runtime.CompilerServices.AsyncIteratorStateMachineAttribute", "System.Runtime.CompilerServices.AsyncStateMachineAttribute"],
        }));
        var folder = Path.Combine(TokenizerTestFiles.RepositoryRoot, "Rest.Onnx.Tests", "PublicApi");
        var approvedPath = Path.Combine(folder, name + ".approved.txt");
        var receivedPath = Path.Combine(folder, name + ".received.txt");
        if (Environment.GetEnvironmentVariable("REST_ONNX_ACCEPT_API") == "1") File.WriteAllText(approvedPath, api);
        var approved = File.Exists(approvedPath) ? Normalize(File.ReadAllText(approvedPath)) : "";
        if (api == approved)
        {
            File.Delete(receivedPath);
            return;
        }
        File.WriteAllText(receivedPath, api);
        Assert.Fail($"The public API of {name} changed: review {receivedPath} against {approvedPath} and, if intended, accept it (REST_ONNX_ACCEPT_API=1).");
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd() + "\n";
}
