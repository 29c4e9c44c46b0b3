namespace Rest.Onnx.Execution;

/// <summary>
/// One block of memory on the device that runs the model (host memory for the CPU, device memory for
/// CUDA). Released by its <see cref="IDeviceBackend"/> on dispose; the pointer is invalid afterwards.
/// </summary>
internal sealed class DeviceMemory : IDisposable
{
    private readonly IDeviceBackend _owner;

    internal DeviceMemory(IDeviceBackend owner, IntPtr pointer, long byteLength)
    {
        _owner = owner;
        Pointer = pointer;
        ByteLength = byteLength;
    }

    public IntPtr Pointer { get; private set; }

    public long ByteLength { get; }

    public void Dispose()
    {
        if (Pointer == IntPtr.Zero) return;
        _owner.Free(Pointer);
        Pointer = IntPtr.Zero;
    }
}
