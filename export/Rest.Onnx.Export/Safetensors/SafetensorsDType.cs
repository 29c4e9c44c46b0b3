namespace Rest.Onnx.Export.Safetensors;

/// <summary>Element types of safetensors tensors that this project reads as floating point.</summary>
public enum SafetensorsDType
{
    /// <summary>IEEE 754 single precision ("F32").</summary>
    F32,
    /// <summary>IEEE 754 half precision ("F16").</summary>
    F16,
    /// <summary>bfloat16: the upper 16 bits of a float ("BF16").</summary>
    BF16,
}

/// <summary>Names and sizes of <see cref="SafetensorsDType"/> as the file format spells them.</summary>
public static class SafetensorsDTypes
{
    /// <summary>The header spelling ("F32", "F16", "BF16").</summary>
    public static string Name(SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F32 => "F32",
        SafetensorsDType.F16 => "F16",
        SafetensorsDType.BF16 => "BF16",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>Bytes per element.</summary>
    public static int Size(SafetensorsDType dtype) => dtype == SafetensorsDType.F32 ? 4 : 2;

    /// <summary>Parses a header spelling; false for types this project does not read as floats (I64, F64, ...).</summary>
    public static bool TryParse(string name, out SafetensorsDType dtype)
    {
        switch (name)
        {
            case "F32": dtype = SafetensorsDType.F32; return true;
            case "F16": dtype = SafetensorsDType.F16; return true;
            case "BF16": dtype = SafetensorsDType.BF16; return true;
            default: dtype = default; return false;
        }
    }
}
