namespace Rest.Onnx.Datastore.Building;

/// <summary>What a build is doing.</summary>
public enum DatastoreBuildPhase
{
    /// <summary>Reading and tokenizing inputs.</summary>
    Reading,
    /// <summary>Sorting the suffixes of a shard.</summary>
    SuffixArray,
    /// <summary>Writing a shard's sections.</summary>
    Writing,
    /// <summary>The file is complete.</summary>
    Done,
}

/// <summary>A progress snapshot of a build.</summary>
/// <param name="Phase">Current phase.</param>
/// <param name="Files">Input files read so far.</param>
/// <param name="Documents">Documents added so far.</param>
/// <param name="Tokens">Tokens added so far (separators included).</param>
/// <param name="Shards">Shards written so far.</param>
/// <param name="Elapsed">Time since the build started.</param>
public readonly record struct DatastoreBuildProgress(
    DatastoreBuildPhase Phase, long Files, long Documents, long Tokens, int Shards, TimeSpan Elapsed)
{
    /// <summary>
    /// A warning raised at this point (an input skipped or not valid UTF-8), or null. A report with a warning
    /// repeats the current phase; show every such report.
    /// </summary>
    public string? Warning { get; init; }

    /// <summary>Tokens per second so far.</summary>
    public double TokensPerSecond => Elapsed.TotalSeconds > 0 ? Tokens / Elapsed.TotalSeconds : 0;
}

/// <summary>Result of a completed build.</summary>
/// <param name="Path">The datastore file.</param>
/// <param name="Tokens">Tokens stored (separators included).</param>
/// <param name="Documents">Documents added.</param>
/// <param name="Shards">Shards written.</param>
/// <param name="FileLength">Size of the file in bytes.</param>
/// <param name="Elapsed">Build time.</param>
public sealed record DatastoreBuildSummary(string Path, long Tokens, long Documents, int Shards, long FileLength, TimeSpan Elapsed)
{
    /// <summary>Inputs skipped because they are not regular files (FIFOs, sockets, devices).</summary>
    public long SkippedSpecialFiles { get; init; }

    /// <summary>Inputs that look binary (a NUL byte) or are not valid UTF-8; see <see cref="CorpusOptions.SkipInvalidText"/>.</summary>
    public long InvalidTextFiles { get; init; }

    /// <summary>Of <see cref="InvalidTextFiles"/>, how many were skipped rather than read with replacement characters.</summary>
    public long SkippedInvalidTextFiles { get; init; }
}
