using Rest.Onnx.Export;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Tests.Runtime;

/// <summary>
/// Base of the fixtures that run the default tiny model through one generator (opened once per fixture), exported in
/// <paramref name="variant"/> and <paramref name="dtype"/> (the equivalence fixtures run in both runtime variants, float32 and int4).
/// </summary>
public abstract class TinyModelFixture(GraphVariant variant = GraphVariant.Opset23, ModelDType dtype = ModelDType.Float32)
{
    /// <summary>The exported folder this fixture's model was loaded from.</summary>
    protected string ModelFolder => TinyModels.Folder(TinyModels.Default, new ExportOptions { Variant = variant, DType = dtype });

    /// <summary>The graph variant this fixture's model was exported in.</summary>
    protected GraphVariant Variant => variant;

    protected RestModel Model { get; private set; } = null!;

    protected Generator Generator { get; private set; } = null!;

    [OneTimeSetUp]
    public void OpenTinyModel()
    {
        Model = RestModel.Load(ModelFolder, new ModelOptions { MaxSequenceLength = 256, IntraOpThreads = 1 });
        Generator = Model.CreateGenerator();
    }

    [OneTimeTearDown]
    public void CloseTinyModel()
    {
        Generator.Dispose();
        Model.Dispose();
    }
}
