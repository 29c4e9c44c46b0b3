namespace Rest.Onnx;

/// <summary>Why a run ended.</summary>
public enum StopReason
{
    /// <summary><see cref="GenerationOptions.MaxNewTokens"/> tokens were generated.</summary>
    MaxNewTokens,

    /// <summary>A stop token was generated.</summary>
    StopToken,

    /// <summary>A stop string appeared in the text.</summary>
    StopString,

    /// <summary>The sequence reached the model's <see cref="RestModel.MaxSequenceLength"/>.</summary>
    MaxSequenceLength,
}
