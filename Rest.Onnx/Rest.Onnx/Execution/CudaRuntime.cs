using System.Runtime.InteropServices;

namespace Rest.Onnx.Execution;

/// <summary>
/// The few CUDA runtime calls the CUDA backend needs (allocate, free, strided copy), bound at run
/// time from the CUDA runtime library that ONNX Runtime's CUDA provider also uses. Isolated here so
/// the rest of the runtime never touches CUDA directly.
/// </summary>
internal static unsafe class CudaRuntime
{
    private const int DeviceToHost = 2;
    private const int DeviceToDevice = 3;

    /// <summary>Libraries ONNX Runtime 1.31's CUDA provider loads (Linux names; Windows names follow).</summary>
    internal static readonly string[] RequiredLibraries = OperatingSystem.IsWindows()
        ? ["cudart64_13.dll", "cublas64_13.dll", "cublasLt64_13.dll", "curand64_10.dll", "cudnn64_9.dll"]
        : ["libcuda.so.1", "libcudart.so.13", "libcublas.so.13", "libcublasLt.so.13", "libcurand.so.10", "libcudnn.so.9"];

    private static readonly Lazy<Api> Functions = new(Bind);

    /// <summary>Names of <see cref="RequiredLibraries"/> that cannot be loaded on this machine.</summary>
    internal static List<string> MissingLibraries()
    {
        var missing = new List<string>();
        foreach (var name in RequiredLibraries)
        {
            if (NativeLibrary.TryLoad(name, out var handle)) NativeLibrary.Free(handle);
            else missing.Add(name);
        }
        return missing;
    }

    internal static void SetDevice(int device) => Check(Functions.Value.SetDevice(device), "cudaSetDevice");

    internal static IntPtr Malloc(long bytes)
    {
        IntPtr pointer;
        Check(Functions.Value.Malloc(&pointer, (nuint)Math.Max(bytes, 1)), "cudaMalloc");
        return pointer;
    }

    internal static void Free(IntPtr pointer) => _ = Functions.Value.Free(pointer);

    internal static void Copy2DDeviceToDevice(IntPtr dst, long dpitch, IntPtr src, long spitch, long width, long height)
        => Check(Functions.Value.Memcpy2D(dst, (nuint)dpitch, src, (nuint)spitch, (nuint)width, (nuint)height, DeviceToDevice), "cudaMemcpy2D");

    internal static void CopyDeviceToHost(IntPtr dst, IntPtr src, long bytes)
        => Check(Functions.Value.Memcpy(dst, src, (nuint)bytes, DeviceToHost), "cudaMemcpy");

    internal static void Synchronize() => Check(Functions.Value.DeviceSynchronize(), "cudaDeviceSynchronize");

    private static void Check(int status, string call)
    {
        if (status != 0) throw new InvalidOperationException($"{call} failed with CUDA error {status}.");
    }

    private static Api Bind()
    {
        var name = RequiredLibraries[OperatingSystem.IsWindows() ? 0 : 1];
        if (!NativeLibrary.TryLoad(name, out var library))
            throw new ExecutionProviderUnavailableException($"CUDA runtime library {name} not found.");
        return new Api
        {
            SetDevice = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(library, "cudaSetDevice"),
            Malloc = (delegate* unmanaged<IntPtr*, nuint, int>)NativeLibrary.GetExport(library, "cudaMalloc"),
            Free = (delegate* unmanaged<IntPtr, int>)NativeLibrary.GetExport(library, "cudaFree"),
            Memcpy = (delegate* unmanaged<IntPtr, IntPtr, nuint, int, int>)NativeLibrary.GetExport(library, "cudaMemcpy"),
            Memcpy2D = (delegate* unmanaged<IntPtr, nuint, IntPtr, nuint, nuint, nuint, int, int>)NativeLibrary.GetExport(library, "cudaMemcpy2D"),
            DeviceSynchronize = (delegate* unmanaged<int>)NativeLibrary.GetExport(library, "cudaDeviceSynchronize"),
        };
    }

    private sealed class Api
    {
        public delegate* unmanaged<int, int> SetDevice;
        public delegate* unmanaged<IntPtr*, nuint, int> Malloc;
        public delegate* unmanaged<IntPtr, int> Free;
        public delegate* unmanaged<IntPtr, IntPtr, nuint, int, int> Memcpy;
        public delegate* unmanaged<IntPtr, nuint, IntPtr, nuint, nuint, nuint, int, int> Memcpy2D;
        public delegate* unmanaged<int> DeviceSynchronize;
    }
}
