using Microsoft.ML.OnnxRuntime;

namespace Rest.Onnx.Execution;

/// <summary>Creates the ONNX Runtime session for the requested execution provider, with clear errors and the Auto fallback.</summary>
internal static class SessionFactory
{
    public static (InferenceSession Session, ExecutionProvider InUse, IDeviceBackend Backend) Create(
        string modelPath, ModelOptions options, Action<string> warn)
    {
        var provider = options.ExecutionProvider;
        if (provider.Kind == ExecutionProviderKind.Cpu) return (CreateCpu(modelPath, options), provider, CpuBackend.Instance);
        try
        {
            return CreateCuda(modelPath, options, provider.DeviceId);
        }
        catch (ExecutionProviderUnavailableException e) when (provider.Kind == ExecutionProviderKind.Auto)
        {
            warn($"Rest.Onnx: falling back to the CPU execution provider. {e.Message}");
            return (CreateCpu(modelPath, options), ExecutionProvider.Cpu, CpuBackend.Instance);
        }
    }

    private static SessionOptions BaseOptions(ModelOptions options)
    {
        var so = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (options.IntraOpThreads > 0) so.IntraOpNumThreads = options.IntraOpThreads;
        return so;
    }

    private static InferenceSession CreateCpu(string modelPath, ModelOptions options)
    {
        using var so = BaseOptions(options);
        return Open(modelPath, so);
    }

    private static (InferenceSession, ExecutionProvider, IDeviceBackend) CreateCuda(string modelPath, ModelOptions options, int deviceId)
    {
        using var so = BaseOptions(options);
        try
        {
            so.AppendExecutionProvider_CUDA(deviceId);
        }
        catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
        {
            throw Unavailable(e);
        }
        InferenceSession session;
        try
        {
            session = Open(modelPath, so);
        }
        catch (OnnxRuntimeException e)
        {
            throw Unavailable(e);
        }
        try
        {
            return (session, ExecutionProvider.Cuda(deviceId), new CudaBackend(deviceId));
        }
        catch (Exception e) when (e is ExecutionProviderUnavailableException or InvalidOperationException or EntryPointNotFoundException)
        {
            session.Dispose();
            throw e as ExecutionProviderUnavailableException ?? Unavailable(e);
        }
    }

    private static InferenceSession Open(string modelPath, SessionOptions so)
    {
        try
        {
            return new InferenceSession(modelPath, so);
        }
        catch (OnnxRuntimeException e) when (!e.Message.Contains("CUDA", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"ONNX Runtime could not load '{modelPath}': {e.Message}", e);
        }
    }

    private static ExecutionProviderUnavailableException Unavailable(Exception e)
    {
        var missing = CudaRuntime.MissingLibraries();
        var what = missing.Count > 0 ? $"{string.Join(", ", missing)} not found" : "the CUDA provider failed to start";
        return new ExecutionProviderUnavailableException(
            $"CUDA execution provider unavailable: {what} (ONNX Runtime: {e.Message.Trim()}). " +
            "Install the CUDA 13 runtime, cuBLAS, cuRAND and cuDNN 9 with a matching driver, or use ExecutionProvider.Cpu or Auto.", e);
    }
}
