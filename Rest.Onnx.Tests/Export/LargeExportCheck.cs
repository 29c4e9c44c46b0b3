using Rest.Onnx.Tests.Export.Reference;

namespace Rest.Onnx.Tests.Export;

/// <summary>
/// Manual check for a big export (external data beyond 2 GiB offsets): set REST_BIG_ONNX to an exported folder and run
/// <c>dotnet test --filter FullyQualifiedName~LargeExportCheck</c>. Explicit: it needs a multi-GB model.
/// </summary>
[Explicit("needs a multi-GB export named by REST_BIG_ONNX")]
public class LargeExportCheck
{
    [Test]
    public void BigExportLoadsAndDecodes()
    {
        var folder = Environment.GetEnvironmentVariable("REST_BIG_ONNX");
        if (string.IsNullOrEmpty(folder)) Assert.Ignore("REST_BIG_ONNX is not set.");
        using var d = new OnnxDecoder(folder);
        var first = d.Step([1, 100, 200], [0, 1, 2], Logits.Causal(0, 3));
        var next = d.Step([Logits.ArgMax(first[2])], [3], Logits.Causal(3, 1));
        Assert.That(next[0].All(float.IsFinite));
        Assert.That(next[0].Max() - next[0].Min(), Is.GreaterThan(0.1));
        TestContext.Out.WriteLine($"argmax {Logits.ArgMax(next[0])}, logit range {next[0].Min():F2}..{next[0].Max():F2}");
    }
}
