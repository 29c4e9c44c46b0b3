using Rest.Onnx.Datastore.Building;

namespace Rest.Onnx.DemoModel.Corpus;

/// <summary>
/// Shows a datastore build as progress bars (adding documents against the expected token count, then the
/// suffix-array sort and the write, whose length is not known in advance, as elapsed time) and records when each
/// phase began, so the suffix-array time can be reported apart from tokenization. Warnings are printed as lines.
/// </summary>
public sealed class StoreBuildProgress(TextWriter log, string label, long expectedTokens) : IProgress<DatastoreBuildProgress>, IDisposable
{
    private ProgressBar? _bar = new(log, label, expectedTokens, "tokens");
    private DatastoreBuildPhase _phase = DatastoreBuildPhase.Reading;

    /// <summary>Build time when the (first) suffix-array sort started.</summary>
    public TimeSpan? SuffixArrayStarted { get; private set; }

    /// <summary>Build time spent sorting suffixes, over all shards.</summary>
    public TimeSpan SuffixArrayTime { get; private set; }

    private TimeSpan _sortStart;

    public void Report(DatastoreBuildProgress value)
    {
        if (value.Warning is { } warning)
        {
            log.WriteLine($"warning: {warning}");
            return;
        }
        if (value.Phase == _phase)
        {
            // A shard's sort ends with a Reading report; a new bar only once documents come again.
            if (value.Phase == DatastoreBuildPhase.Reading)
                (_bar ??= new ProgressBar(log, label, expectedTokens, "tokens")).Report(value.Tokens, $"{value.Documents:N0} documents, {value.TokensPerSecond / 1e6:F2} M tokens/s");
            return;
        }
        var previous = _phase;
        _phase = value.Phase;
        _bar?.Complete();
        if (previous == DatastoreBuildPhase.SuffixArray) SuffixArrayTime += value.Elapsed - _sortStart;
        switch (value.Phase)
        {
            case DatastoreBuildPhase.SuffixArray:
                SuffixArrayStarted ??= value.Elapsed;
                _sortStart = value.Elapsed;
                _bar = new ProgressBar(log, "suffix array", 0, $"SA-IS over {value.Tokens:N0} tokens, one thread");
                break;
            case DatastoreBuildPhase.Writing:
                _bar = new ProgressBar(log, "write", 0, "tokens, suffix array, checksums");
                break;
            default:
                _bar = null;
                break;
        }
    }

    public void Dispose() => _bar?.Complete();
}
