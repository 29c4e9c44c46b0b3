namespace Rest.Onnx;

/// <summary>
/// The winner's curse of choosing drafts by their estimated odds: the subsets chosen are those whose odds came
/// out high, so their realised accepted drafts fall short of the estimate (measured: 0.82 of it for REST on
/// the dev prompts). Keeps decayed sums of expected and realised accepted drafts over the auto budget's steps
/// and gives their ratio (within [0.25, 1.5], 1 until there are enough steps) as the factor the selection
/// applies to its expected gain. Thread-safe (a lock per update; one per model and strategy).
/// </summary>
internal sealed class GainCalibration
{
    private const double Decay = 0.998;
    private readonly object _lock = new();
    private double _expected;
    private double _realised;
    private double _scale = 1;

    /// <summary>The factor on the expected gain.</summary>
    public double Scale => Volatile.Read(ref _scale);

    /// <summary>Records one step: the accepted drafts the chosen tree was expected to yield, and those it did.</summary>
    public void Record(double expected, double realised)
    {
        lock (_lock)
        {
            _expected = _expected * Decay + expected;
            _realised = _realised * Decay + realised;
            Volatile.Write(ref _scale, _expected < 8 ? 1 : Math.Clamp(_realised / _expected, 0.25, 1.5));
        }
    }
}
