namespace Rest.Onnx;

/// <summary>An execution provider choice: <see cref="Cpu"/>, <see cref="Cuda(int)"/> or <see cref="Auto"/>.</summary>
/// <param name="Kind">The provider.</param>
/// <param name="DeviceId">CUDA device ordinal (ignored for the CPU).</param>
public readonly record struct ExecutionProvider(ExecutionProviderKind Kind, int DeviceId = 0)
{
    /// <summary>The CPU execution provider.</summary>
    public static ExecutionProvider Cpu => new(ExecutionProviderKind.Cpu);

    /// <summary>CUDA on device 0 if it starts, otherwise the CPU (with a warning).</summary>
    public static ExecutionProvider Auto => new(ExecutionProviderKind.Auto);

    /// <summary>The CUDA execution provider on <paramref name="deviceId"/>.</summary>
    public static ExecutionProvider Cuda(int deviceId = 0) => new(ExecutionProviderKind.Cuda, deviceId);

    /// <inheritdoc/>
    public override string ToString() => Kind == ExecutionProviderKind.Cpu ? "Cpu" : $"{Kind}({DeviceId})";
}
