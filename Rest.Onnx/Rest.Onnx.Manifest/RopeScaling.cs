namespace Rest.Onnx.Manifest;

/// <summary>
/// Rotary frequency scaling (Hugging Face <c>config.json</c>'s <c>rope_scaling</c>, as written to <c>rest-model.json</c>).
/// Supported types: <c>llama3</c> (Llama 3.1/3.2: low frequencies divided by <see cref="Factor"/>, high ones kept, a
/// smooth blend between) and <c>linear</c> (all frequencies divided by <see cref="Factor"/>).
/// </summary>
/// <param name="Type">"llama3" or "linear".</param>
/// <param name="Factor">Scaling factor.</param>
/// <param name="LowFreqFactor">llama3 only: wavelengths above original/low are fully scaled.</param>
/// <param name="HighFreqFactor">llama3 only: wavelengths below original/high are unscaled.</param>
/// <param name="OriginalMaxPositions">llama3 only: <c>original_max_position_embeddings</c>.</param>
public sealed record RopeScaling(string Type, double Factor, double LowFreqFactor = 1, double HighFreqFactor = 4, int OriginalMaxPositions = 8192)
{
    /// <summary>The rope scaling types the exporter supports.</summary>
    public static readonly IReadOnlyList<string> SupportedTypes = ["llama3", "linear"];
}
