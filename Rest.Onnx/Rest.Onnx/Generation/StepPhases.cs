namespace Rest.Onnx;

/// <summary>
/// Where one verification step's time went, in <see cref="System.Diagnostics.Stopwatch"/> ticks: what
/// <c>figures step-overhead</c> splits the engine's step into, beside a bare ONNX Runtime run of the same rows.
/// Ten timestamps a step (tens of nanoseconds), kept by the generator for its last step.
/// </summary>
internal struct StepPhases
{
    /// <summary>Rows the step verified (the root plus the chosen draft nodes).</summary>
    public int Rows;

    /// <summary>The source's <see cref="IDraftSource.Draft"/> and the vocabulary check.</summary>
    public long Draft;

    /// <summary>Choosing the verified tree (the auto budget's selection, or the fixed budget's limit).</summary>
    public long Select;

    /// <summary>Input ids and position ids.</summary>
    public long Inputs;

    /// <summary>The additive 4D mask.</summary>
    public long Mask;

    /// <summary>Creating and binding the run's tensors (IOBinding).</summary>
    public long Bind;

    /// <summary>ONNX Runtime's run (including the device synchronisation on CUDA).</summary>
    public long Run;

    /// <summary>Copying logits rows to the host (CUDA only; nothing on the CPU, where acceptance reads the output in place).</summary>
    public long Readback;

    /// <summary>Greedy or sampling acceptance over the logits rows, read-back excluded.</summary>
    public long Accept;

    /// <summary>Keeping the accepted rows' KV entries (compaction).</summary>
    public long Commit;

    /// <summary>Everything after: observing the outcome, statistics, stop checks, text.</summary>
    public long Bookkeeping;

    /// <summary>The verification step proper: everything but drafting, selection and bookkeeping.</summary>
    public readonly long Verification => Inputs + Mask + Bind + Run + Readback + Accept + Commit;
}
