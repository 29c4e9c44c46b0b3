namespace Rest.Onnx.Export.Safetensors;

/// <summary>One tensor's header entry.</summary>
/// <param name="Name">Tensor name, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</param>
/// <param name="DType">Element type as spelled in the header ("F32", "BF16", "I64", ...).</param>
/// <param name="Shape">Dimensions, outermost first.</param>
/// <param name="Begin">Start of the data, in bytes from the start of the data section.</param>
/// <param name="End">End (exclusive) of the data, in bytes from the start of the data section.</param>
/// <param name="FilePath">The file that holds the tensor.</param>
public sealed record SafetensorsTensorInfo(string Name, string DType, long[] Shape, long Begin, long End, string FilePath)
{
    /// <summary>Number of elements (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>The shape as text, e.g. <c>[4096, 4096]</c>.</summary>
    public string ShapeText => FormatShape(Shape);

    internal static string FormatShape(IReadOnlyList<long> shape) => "[" + string.Join(", ", shape) + "]";
}
