using DemoModelTool = Rest.Onnx.DemoModel.Program;
using BenchTool = Rest.Onnx.Bench.Program;

namespace Rest.Onnx.Tests.DemoModel.Large;

/// <summary>Usage errors of the large-corpus verbs: exit 2 naming the option, before anything is downloaded or built.</summary>
public class CorpusLargeCommandTests
{
    private static (int Code, string Error) Run(Func<string[], TextWriter, TextWriter, int> tool, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        return (tool(args, output, error), error.ToString());
    }

    [TestCase("--tokens-target", "0")]
    [TestCase("--tokens-target", "many")]
    [TestCase("--packages", "python3-sympy,,python3-django")]
    [TestCase("--packages", "Python3 Sympy")]
    [TestCase("--no-such-option", "1")]
    public void BadOptionsAreUsageErrorsNamingTheOption(string option, string value)
    {
        var (code, error) = Run(DemoModelTool.Run, "corpus-large", option, value);
        Assert.That(code, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain(option));
    }

    [TestCase("--sizes", "1M,,3M")]
    [TestCase("--sizes", "0")]
    [TestCase("--sizes", "3G")]
    [TestCase("--prompt-sets", "long")]
    [TestCase("--prompt-count", "0")]
    [TestCase("--max-new-tokens", "0")]
    public void DatastoreScaleBadValuesAreUsageErrors(string option, string value)
    {
        var (code, error) = Run(BenchTool.Run, "figures", "datastore-scale", option, value);
        Assert.That(code, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain(option));
    }

    [Test]
    public void SizesTakeSuffixes()
    {
        Assert.That(Rest.Onnx.Bench.Commands.FiguresDatastoreScaleCommand.ParseSize("3M"), Is.EqualTo(3_000_000));
        Assert.That(Rest.Onnx.Bench.Commands.FiguresDatastoreScaleCommand.ParseSize("500k"), Is.EqualTo(500_000));
        Assert.That(Rest.Onnx.Bench.Commands.FiguresDatastoreScaleCommand.ParseSize("42"), Is.EqualTo(42));
        Assert.That(Rest.Onnx.Bench.Commands.FiguresDatastoreScaleCommand.ParseSize("-1"), Is.Null);
    }

    [Test]
    public void TheMainJobTakesDatastoreSizeSmallOrLargeOnly()
    {
        var (code, error) = Run(BenchTool.Run, "--datastore-size", "huge");
        Assert.That(code, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain("--datastore-size"));
    }
}
