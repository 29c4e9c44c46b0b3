using Microsoft.ML.OnnxRuntime;

namespace Rest.Onnx.Execution;

/// <summary>
/// Where the KV cache and the logits live, and how bytes move there. The CPU backend works on host
/// memory; the CUDA backend keeps both on the GPU. Everything device-specific goes through here.
/// </summary>
internal interface IDeviceBackend : IDisposable
{
    /// <summary>ONNX Runtime's description of this memory, for binding tensors over it.</summary>
    OrtMemoryInfo MemoryInfo { get; }

    /// <summary>True when the memory is directly readable by the CPU.</summary>
    bool IsHost { get; }

    /// <summary>Allocates <paramref name="byteLength"/> bytes (at least one), 64-byte aligned.</summary>
    DeviceMemory Allocate(long byteLength);

    /// <summary>Releases memory from <see cref="Allocate"/>.</summary>
    void Free(IntPtr pointer);

    /// <summary>
    /// Copies <paramref name="height"/> rows of <paramref name="widthBytes"/> bytes from a source with row
    /// pitch <paramref name="sourcePitch"/> to a destination with pitch <paramref name="destinationPitch"/>.
    /// Source and destination must not overlap.
    /// </summary>
    void Copy2D(IntPtr destination, long destinationPitch, IntPtr source, long sourcePitch, long widthBytes, long height);

    /// <summary>Waits until earlier copies have finished.</summary>
    void Synchronize();

    /// <summary>Copies bytes from this device's memory to host memory.</summary>
    void CopyToHost(IntPtr source, IntPtr hostDestination, long byteLength);
}
