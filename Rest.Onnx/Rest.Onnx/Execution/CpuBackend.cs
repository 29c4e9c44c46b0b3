using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace Rest.Onnx.Execution;

/// <summary>Host memory from <see cref="NativeMemory"/>: never moved by the GC, bound to ONNX Runtime without pinning.</summary>
internal sealed unsafe class CpuBackend : IDeviceBackend
{
    public static readonly CpuBackend Instance = new();

    public OrtMemoryInfo MemoryInfo => OrtMemoryInfo.DefaultInstance;

    public bool IsHost => true;

    public DeviceMemory Allocate(long byteLength)
    {
        var pointer = NativeMemory.AlignedAlloc((nuint)Math.Max(byteLength, 1), 64);
        return new DeviceMemory(this, (IntPtr)pointer, byteLength);
    }

    public void Free(IntPtr pointer) => NativeMemory.AlignedFree((void*)pointer);

    public void Copy2D(IntPtr destination, long destinationPitch, IntPtr source, long sourcePitch, long widthBytes, long height)
    {
        var d = (byte*)destination;
        var s = (byte*)source;
        for (long row = 0; row < height; row++)
        {
            Buffer.MemoryCopy(s + row * sourcePitch, d + row * destinationPitch, widthBytes, widthBytes);
        }
    }

    public void Synchronize() { }

    public void CopyToHost(IntPtr source, IntPtr hostDestination, long byteLength)
        => Buffer.MemoryCopy((void*)source, (void*)hostDestination, byteLength, byteLength);

    // The singleton owns no resources of its own.
    public void Dispose() { }
}
