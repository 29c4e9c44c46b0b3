using Microsoft.ML.OnnxRuntime;

namespace Rest.Onnx.Execution;

/// <summary>
/// KV cache and logits in GPU memory: ONNX Runtime's CUDA provider reads the past and writes the present
/// there directly; only the logits rows that acceptance asks for cross to the host.
/// </summary>
internal sealed class CudaBackend : IDeviceBackend
{
    private readonly int _deviceId;

    public CudaBackend(int deviceId)
    {
        _deviceId = deviceId;
        CudaRuntime.SetDevice(deviceId);
        MemoryInfo = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, deviceId, OrtMemType.Default);
    }

    public OrtMemoryInfo MemoryInfo { get; }

    public bool IsHost => false;

    public DeviceMemory Allocate(long byteLength)
    {
        CudaRuntime.SetDevice(_deviceId);
        return new DeviceMemory(this, CudaRuntime.Malloc(byteLength), byteLength);
    }

    public void Free(IntPtr pointer) => CudaRuntime.Free(pointer);

    public void Copy2D(IntPtr destination, long destinationPitch, IntPtr source, long sourcePitch, long widthBytes, long height)
        => CudaRuntime.Copy2DDeviceToDevice(destination, destinationPitch, source, sourcePitch, widthBytes, height);

    // Device-to-device copies may return before they finish; the next Run must see the compacted cache.
    public void Synchronize() => CudaRuntime.Synchronize();

    public void CopyToHost(IntPtr source, IntPtr hostDestination, long byteLength)
        => CudaRuntime.CopyDeviceToHost(hostDestination, source, byteLength);

    public void Dispose() => MemoryInfo.Dispose();
}
