using Rest.Onnx.Manifest;

namespace Rest.Onnx.Export;

/// <summary>Reported after each tensor is written.</summary>
/// <param name="TensorIndex">1-based index of the tensor just written.</param>
/// <param name="TensorCount">Tensors in total.</param>
/// <param name="TensorName">Initializer name in the graph.</param>
/// <param name="BytesWritten">Weight bytes written so far.</param>
public readonly record struct ExportProgress(int TensorIndex, int TensorCount, string TensorName, long BytesWritten);

/// <summary>What an export wrote.</summary>
/// <param name="ModelPath">Path of <c>model.onnx</c>.</param>
/// <param name="ManifestPath">Path of <c>rest-model.json</c>.</param>
/// <param name="Manifest">The manifest written.</param>
/// <param name="WeightBytes">Bytes of weights (initializers) written.</param>
/// <param name="TensorCount">Initializers written from the checkpoint (plus rotary tables).</param>
public sealed record ExportResult(string ModelPath, string ManifestPath, ModelManifest Manifest, long WeightBytes, int TensorCount);
