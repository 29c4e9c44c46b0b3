using Rest.Onnx.Tests.Tokenization;
using BenchTool = Rest.Onnx.Bench.Program;
using DatastoreTool = Rest.Onnx.Datastore.Tool.Program;
using DemoModelTool = Rest.Onnx.DemoModel.Program;
using ExportTool = Rest.Onnx.Export.Tool.Program;
using FuzzHarness = Rest.Onnx.Datastore.Fuzz.Program;
using ServerTool = Rest.Onnx.Server.Program;

namespace Rest.Onnx.Tests.Tools;

/// <summary>
/// The convention every command line shares (the four tools, the chat server and the fuzz harness): generated help on every verb (exit 0), usage errors naming the
/// option (exit 2), runtime failures as one line on stderr (exit 1). Each tool runs in process with its own writers.
/// </summary>
public sealed class CommandLineConventionTests
{
    private delegate int Tool(string[] args, TextWriter output, TextWriter error);

    private static readonly Dictionary<string, Tool> Tools = new()
    {
        ["rest-datastore"] = DatastoreTool.Run,
        ["rest-export"] = ExportTool.Run,
        ["rest-demo-model"] = DemoModelTool.Run,
        ["Rest.Onnx.Bench"] = BenchTool.Run,
        ["rest-server"] = ServerTool.Run,
        ["Rest.Onnx.Datastore.Fuzz"] = FuzzHarness.Run,
    };

    /// <summary>The tools with verbs (the server's root is its only command).</summary>
    private static readonly string[] ToolsWithVerbs = ["rest-datastore", "rest-export", "rest-demo-model", "Rest.Onnx.Bench", "Rest.Onnx.Datastore.Fuzz"];

    /// <summary>Every verb path of every tool, the root ("") included.</summary>
    private static readonly (string Tool, string Verb)[] Verbs =
    [
        ("rest-datastore", ""), ("rest-datastore", "build"), ("rest-datastore", "info"), ("rest-datastore", "query"),
        ("rest-export", ""), ("rest-export", "convert"), ("rest-export", "tiny"),
        ("rest-demo-model", ""), ("rest-demo-model", "prepare"), ("rest-demo-model", "corpus-text"), ("rest-demo-model", "list"), ("rest-demo-model", "encode-lines"), ("rest-demo-model", "corpus-large"),
        ("Rest.Onnx.Bench", ""), ("Rest.Onnx.Bench", "bench"), ("Rest.Onnx.Bench", "figures"), ("Rest.Onnx.Bench", "figures datastore"),
        ("Rest.Onnx.Bench", "figures tokenizers"), ("Rest.Onnx.Bench", "figures engine"), ("Rest.Onnx.Bench", "figures race"), ("Rest.Onnx.Bench", "figures int4"), ("Rest.Onnx.Bench", "figures datastore-scale"),
        ("Rest.Onnx.Bench", "figures step-overhead"), ("Rest.Onnx.Bench", "figures serve"),
        ("rest-server", ""), ("Rest.Onnx.Datastore.Fuzz", ""), ("Rest.Onnx.Datastore.Fuzz", "seed"),
    ];

    private static (int Code, string Out, string Error) Run(string tool, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        return (Tools[tool](args, output, error), output.ToString(), error.ToString());
    }

    private static string[] Split(string verb) => verb.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [Test]
    public void EveryVerbAnswersHelp([Values("--help", "-h")] string help)
    {
        foreach (var (tool, verb) in Verbs)
        {
            var (code, output, error) = Run(tool, [.. Split(verb), help]);
            var what = $"{tool} {verb} {help}";
            Assert.That(code, Is.Zero, what);
            Assert.That(error, Is.Empty, what);
            Assert.That(output, Does.Contain("Usage:").And.Contain($"{tool} {verb}".TrimEnd()), what);
        }
    }

    [Test]
    public void ConvertHelpListsItsOptions()
    {
        var (code, output, _) = Run("rest-export", "convert", "--help");
        Assert.That(code, Is.Zero);
        Assert.That(output, Does.Contain("--in").And.Contain("--out").And.Contain("--dtype").And.Contain("--variant"));
    }

    [Test]
    public void BenchHelpListsTheMainJobOptions()
    {
        var (code, output, _) = Run("Rest.Onnx.Bench", "--help");
        Assert.That(code, Is.Zero);
        foreach (var option in new[] { "--model", "--datastore", "--corpus", "--prompts", "--prompt-count", "--max-new-tokens", "--strategies",
                     "--budgets", "--draft-mode", "--min-share", "--ep", "--threads", "--warmup", "--out", "--cache" })
            Assert.That(output, Does.Contain(option));
        Assert.That(output, Does.Contain("bench").And.Contain("figures"));
    }

    /// <summary>The options docs/benchmarks.md section 5 names, per figures verb.</summary>
    [TestCase("engine", "--json", "--shapes", "--dtypes", "--variants", "--threads", "--reps", "--contexts", "--out", "--prepare-only",
        "--no-generation", "--block-size", "--accuracy-level", "--clock")]
    [TestCase("race", "--shapes", "--dtypes", "--ours", "--genai", "--threads", "--runs", "--prompt-tokens", "--new-tokens", "--clock", "--json", "--out")]
    [TestCase("int4", "--block-sizes", "--accuracy-levels", "--new-tokens", "--prompts", "--threads")]
    [TestCase("step-overhead", "--models", "--variants", "--contexts", "--rows", "--reps", "--threads", "--clock", "--json", "--out")]
    public void FiguresHelpListsItsOptions(string verb, params string[] options)
    {
        var (code, output, error) = Run("Rest.Onnx.Bench", "figures", verb, "--help");
        Assert.That(code, Is.Zero, error);
        foreach (var option in options) Assert.That(output, Does.Contain(option + " "), $"figures {verb} {option}");
    }

    [Test]
    public void AnUnknownOptionIsAUsageErrorNamingIt()
    {
        // "bench" is left out: it hands every later token to BenchmarkDotNet unparsed.
        foreach (var (tool, verb) in Verbs.Where(v => v.Verb != "bench"))
        {
            var (code, output, error) = Run(tool, [.. Split(verb), "--no-such-option"]);
            var what = $"{tool} {verb}";
            Assert.That(code, Is.EqualTo(2), what);
            Assert.That(error, Does.Contain("--no-such-option"), what);
            Assert.That(output, Is.Empty, what);
        }
    }

    [Test]
    public void AStrayArgumentToTheServerIsAUsageError()
    {
        var (code, output, error) = Run("rest-server", "frobnicate");
        Assert.That(code, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain("frobnicate"));
        Assert.That(output, Is.Empty);
    }

    [Test]
    public void AnUnknownVerbIsAUsageError()
    {
        foreach (var tool in ToolsWithVerbs)
        {
            var (code, _, error) = Run(tool, "frobnicate");
            Assert.That(code, Is.EqualTo(2), tool);
            Assert.That(error, Does.Contain("unknown verb 'frobnicate'"), tool);
        }
    }

    private static IEnumerable<TestCaseData> BadValues()
    {
        TestCaseData Case(string tool, string named, params string[] args) => new TestCaseData(tool, args, named).SetArgDisplayNames(tool, string.Join(' ', args));
        yield return Case("Rest.Onnx.Bench", "--budgets", "--budgets", "4,,8");
        yield return Case("Rest.Onnx.Bench", "--budgets", "--budgets", "4,0");
        yield return Case("Rest.Onnx.Bench", "--budgets", "--budgets", "4", "--budgets", "x");
        yield return Case("Rest.Onnx.Bench", "--prompt-count", "--prompt-count", "0");
        yield return Case("Rest.Onnx.Bench", "--max-new-tokens", "--max-new-tokens", "0");
        yield return Case("Rest.Onnx.Bench", "--strategies", "--strategies", "rest,,hybrid");
        yield return Case("Rest.Onnx.Bench", "--strategies", "--strategies", "rest,fast");
        yield return Case("Rest.Onnx.Bench", "--draft-mode", "--draft-mode", "fast");
        yield return Case("Rest.Onnx.Bench", "--min-share", "--min-share", "1.5");
        yield return Case("Rest.Onnx.Bench", "--ep", "--ep", "gpu");
        yield return Case("Rest.Onnx.Bench", "--variant", "--variant", "genai");
        yield return Case("Rest.Onnx.Bench", "--models", "figures", "step-overhead", "--models", "demo,7b");
        yield return Case("Rest.Onnx.Bench", "--variants", "figures", "step-overhead", "--variants", "genai");
        yield return Case("Rest.Onnx.Bench", "--rows", "figures", "step-overhead", "--rows", "1,0");
        yield return Case("Rest.Onnx.Bench", "--reps", "figures", "step-overhead", "--reps", "0");
        yield return Case("Rest.Onnx.Bench", "--promt-count", "--promt-count", "3");
        yield return Case("Rest.Onnx.Bench", "--tokens", "figures", "datastore", "--tokens", "abc");
        yield return Case("Rest.Onnx.Bench", "--tokens", "figures", "datastore", "--tokens", "0");
        yield return Case("Rest.Onnx.Bench", "--variants", "figures", "engine", "--variants", "foo");
        yield return Case("Rest.Onnx.Bench", "--variants", "figures", "engine", "--variants", "gqa", "--variants", "opset23,");
        yield return Case("Rest.Onnx.Bench", "--dtypes", "figures", "engine", "--dtypes", "x");
        yield return Case("Rest.Onnx.Bench", "--shapes", "figures", "engine", "--shapes", "small,7b");
        yield return Case("Rest.Onnx.Bench", "--clock", "figures", "engine", "--clock", "sundial");
        yield return Case("Rest.Onnx.Bench", "--accuracy-level", "figures", "engine", "--accuracy-level", "x");
        yield return Case("Rest.Onnx.Bench", "--accuracy-level", "figures", "engine", "--accuracy-level", "5");
        yield return Case("Rest.Onnx.Bench", "--block-size", "figures", "engine", "--block-size", "48");
        yield return Case("Rest.Onnx.Bench", "--contexts", "figures", "engine", "--contexts", "128,0");
        yield return Case("Rest.Onnx.Bench", "--reps", "figures", "engine", "--reps", "0");
        yield return Case("Rest.Onnx.Bench", "--threads", "figures", "engine", "--threads", "0");
        yield return Case("Rest.Onnx.Bench", "--dtypes", "figures", "race", "--dtypes", "fp8");
        yield return Case("Rest.Onnx.Bench", "--ours", "figures", "race", "--ours", "genai");
        yield return Case("Rest.Onnx.Bench", "--genai", "figures", "race", "--genai", "gqa");
        yield return Case("Rest.Onnx.Bench", "--runs", "figures", "race", "--runs", "0");
        yield return Case("Rest.Onnx.Bench", "--new-tokens", "figures", "race", "--new-tokens", "-3");
        yield return Case("Rest.Onnx.Bench", "--block-sizes", "figures", "int4", "--block-sizes", "0");
        yield return Case("Rest.Onnx.Bench", "--block-sizes", "figures", "int4", "--block-sizes", "32,100");
        yield return Case("Rest.Onnx.Bench", "--accuracy-levels", "figures", "int4", "--accuracy-levels", "0,9");
        yield return Case("Rest.Onnx.Bench", "--prompts", "figures", "int4", "--prompts", "-1");
        yield return Case("Rest.Onnx.Bench", "--new-tokens", "figures", "int4", "--new-tokens", "8,16");
        yield return Case("rest-demo-model", "--tokenzier", "prepare", "--out", "x", "--tokenzier", "y");
        yield return Case("rest-demo-model", "--splt", "list", "--splt", "heldout");
        yield return Case("rest-demo-model", "--split", "list", "--split", "valid");
        yield return Case("rest-demo-model", "--out", "prepare");
        yield return Case("rest-export", "--dtype", "convert", "--in", "a", "--out", "b", "--dtype", "fp8");
        yield return Case("rest-export", "--layers", "tiny", "--out", "x", "--layers", "0");
        yield return Case("rest-export", "--hidden", "tiny", "--out", "x", "--hidden", "big");
        yield return Case("rest-export", "--in", "convert", "--out", "b");
        yield return Case("rest-datastore", "--budget", "query", "x.restds", "--ids", "1", "--budget", "-1");
        yield return Case("rest-datastore", "--format", "build", "--output", "x.restds", "--format", "csv", "in.txt");
        yield return Case("rest-server", "--port", "--port", "70000");
        yield return Case("rest-server", "--generators", "--generators", "0");
        yield return Case("rest-server", "--budget", "--budget", "fast");
        yield return Case("rest-server", "--drafting", "--drafting", "fast");
        yield return Case("rest-server", "--host", "--host", "not a host");
        yield return Case("Rest.Onnx.Bench", "--clients", "figures", "serve", "--clients", "1,0");
        yield return Case("Rest.Onnx.Bench", "--configs", "figures", "serve", "--configs", "hybrid@fast");
    }

    [TestCaseSource(nameof(BadValues))]
    public void ABadValueIsAUsageErrorNamingTheOption(string tool, string[] args, string named)
    {
        var (code, output, error) = Run(tool, args);
        Assert.That(code, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain(named));
        Assert.That(output, Is.Empty);
    }

    private static IEnumerable<TestCaseData> RuntimeFailures()
    {
        var missing = Path.Combine(Path.GetTempPath(), "rest-onnx-no-such-path", "missing");
        TestCaseData Case(string tool, params string[] args) => new TestCaseData(tool, args).SetArgDisplayNames(tool, args[0]);
        yield return Case("rest-datastore", "info", missing + ".restds");
        yield return Case("rest-export", "convert", "--in", missing, "--out", Path.Combine(Path.GetTempPath(), "rest-onnx-no-such-output"));
        yield return Case("rest-demo-model", "list", "--corpus", missing);
        yield return Case("rest-demo-model", "encode-lines", "--tokenizer", TokenizerTestFiles.DemoTokenizer, "--in", missing + ".txt", "--out", missing + ".ids");
    }

    [TestCaseSource(nameof(RuntimeFailures))]
    public void ARuntimeFailureExitsOneWithOneLineOnStderr(string tool, string[] args)
    {
        var (code, _, error) = Run(tool, args);
        Assert.That(code, Is.EqualTo(1), error);
        Assert.That(error.TrimEnd().Split('\n'), Has.Length.EqualTo(1), error);
        Assert.That(error, Does.Contain("missing").And.Not.Contain("   at "), "names the path, no stack trace");
    }

    [Test]
    public void TheMainJobsRuntimeFailureExitsOneWithOneLineOnStderr()
    {
        var cache = Directory.CreateTempSubdirectory("rest-cli-bench-").FullName;
        try
        {
            var (code, _, error) = Run("Rest.Onnx.Bench", "--model", Path.Combine(cache, "missing"), "--cache", cache, "--out", cache);
            Assert.That(code, Is.EqualTo(1), error);
            Assert.That(error.TrimEnd().Split('\n'), Has.Length.EqualTo(1), error);
            Assert.That(error, Does.Contain("missing"));
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [Test]
    public void ExportTinyWritesACheckpoint()
    {
        var folder = Directory.CreateTempSubdirectory("rest-cli-tiny-").FullName;
        try
        {
            var (code, output, error) = Run("rest-export", "tiny", "--out", folder, "--layers", "1", "--tied", "--weights-dtype", "f16");
            Assert.That(code, Is.Zero, error);
            Assert.That(output, Does.Contain("Wrote"));
            Assert.That(File.Exists(Path.Combine(folder, "model.safetensors")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
