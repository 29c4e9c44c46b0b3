namespace Rest.Onnx;

/// <summary>Which ONNX Runtime execution provider runs the model.</summary>
public enum ExecutionProviderKind
{
    /// <summary>The CPU execution provider.</summary>
    Cpu,

    /// <summary>The CUDA execution provider; fails with a clear error where CUDA is unavailable.</summary>
    Cuda,

    /// <summary>CUDA when it can be started, otherwise the CPU with a warning.</summary>
    Auto,
}
