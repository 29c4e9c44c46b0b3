using Rest.Onnx.Export;
using Rest.Onnx.Export.Tiny;
using Rest.Onnx.Tests.Export.Reference;

namespace Rest.Onnx.Tests.Export;

public class ExportSmokeTests
{
    [Test]
    public void TinyExportLoadsAndRuns()
    {
        using var dir = new TempFolder();
        TinyLlama.Write(dir.File("hf"), new TinyLlamaOptions());
        LlamaExporter.Export(dir.File("hf"), dir.File("onnx"));
        using var d = new OnnxDecoder(dir.File("onnx"));
        var mask = new float[3, 3];
        for (int i = 0; i < 3; i++) for (int j = i + 1; j < 3; j++) mask[i, j] = -1e9f;
        var logits = d.Step([5, 6, 7], [0, 1, 2], mask);
        Assert.That(logits[2].Length, Is.EqualTo(256));
        TestContext.Out.WriteLine(string.Join(",", logits[2].Take(8)));
    }
}
