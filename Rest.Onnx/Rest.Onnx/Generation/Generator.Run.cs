using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Rest.Onnx.Acceptance;
using Rest.Onnx.Execution;

namespace Rest.Onnx;

public sealed partial class Generator
{
    /// <summary>Per-run state: options resolved once, statistics, random source, cancellation hook.</summary>
    internal sealed class RunState
    {
        public required GenerationOptions Options { get; init; }
        public required IDraftSource Source { get; init; }
        public required int[] StopTokens { get; init; }
        public required GenerationStatistics Statistics { get; init; }
        public required RunOptions RunOptions { get; init; }
        public required CancellationToken Cancellation { get; init; }
        public SamplingAcceptance? Sampling { get; init; }
        public Random? Random { get; init; }
        public TextTracker? Text { get; init; }
        public CancellationTokenRegistration Registration { get; set; }
        /// <summary>Tokens of the first append (the prompt); -1 before it.</summary>
        public int PromptLength { get; set; } = -1;
        public int Budget { get; set; }
        /// <summary>Each step chooses its tree (<see cref="DraftOptions.AutoBudget"/>).</summary>
        public bool Auto { get; init; }
        /// <summary>Moving average of a step's time outside the forward pass (drafting, acceptance, bookkeeping).</summary>
        public double OverheadSeconds { get; set; } = double.NaN;
        /// <summary>Moving average of the KV compaction a step with rejected rows pays.</summary>
        public double CompactionSeconds { get; set; }
        /// <summary>Steps left to decode without drafting, and the current length of such pauses.</summary>
        public int SkipDrafting { get; set; }
        public int Backoff { get; set; }
        public RecentMean Overhead { get; } = new();
        public GainCalibration? Gain { get; set; }
        public RecentMean Compaction { get; } = new();
        /// <summary>The last candidate tree had unscored nodes, scored by the model's depth-only calibration.</summary>
        public bool ScoredUnscored { get; set; }
        public long StartTicks { get; init; }
        public long DecodeStartTicks { get; set; }
        public bool Done { get; set; }
        public bool Ended { get; set; }
        public StopReason StopReason { get; set; }
    }

    private StepPhases _phases;

    /// <summary>Where the last verification step's time went (for <c>figures step-overhead</c>).</summary>
    internal StepPhases LastStepPhases => _phases;

    /// <summary>The sequence so far.</summary>
    internal ReadOnlySpan<int> Context(RunState run) => _context.AsSpan(0, run.PromptLength < 0 ? 0 : _length);

    internal RunState Begin(GenerationOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ObjectDisposedException.ThrowIf(_disposed, this);
        ObjectDisposedException.ThrowIf(_model.IsDisposed, _model);
        options.Validate();
        if (options.StopStrings is { Count: > 0 } && _model.Tokenizer is null)
            throw new InvalidOperationException($"Stop strings need a tokenizer; model '{_model.Folder}' has none.");
        if (Interlocked.Exchange(ref _busy, 1) != 0) throw new InvalidOperationException("This generator is already running; use one generator per concurrent run.");

        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            EnsureCapacity(options.Draft.CandidateBudget);
            SamplingAcceptance? sampling = null;
            Random? random = null;
            if (options.Decoding == DecodingStrategy.Sampling)
            {
                sampling = new SamplingAcceptance(new TokenSampler(options.Sampling, _config.VocabSize), _config.VocabSize);
                random = new Random(options.Sampling.Seed ?? Random.Shared.Next());
            }
            var run = new RunState
            {
                Options = options,
                Source = ResolveSource(options),
                StopTokens = [.. options.StopTokenIds ?? _config.EosTokenIds],
                Statistics = new GenerationStatistics(_tree.Capacity + 1),
                RunOptions = new RunOptions(),
                Cancellation = cancellationToken,
                Sampling = sampling,
                Random = random,
                Text = _model.Tokenizer is { } tokenizer ? new TextTracker(tokenizer, options.StopStrings) : null,
                Budget = options.Draft.IsAutoBudget ? options.Draft.CandidateBudget
                    : options.AdaptiveBudget ? Math.Min(options.Draft.Budget, 16) : options.Draft.Budget,
                Auto = options.Draft.IsAutoBudget && options.Drafting.Drafts,
                StartTicks = Stopwatch.GetTimestamp(),
            };
            var runOptions = run.RunOptions;
            run.Registration = cancellationToken.Register(() => runOptions.Terminate = true);
            // The cache and _context keep the previous sequence until the prompt arrives (KeepCachedPrefix).
            return run;
        }
        catch
        {
            Volatile.Write(ref _busy, 0);
            throw;
        }
    }

    /// <summary>Appends tokens to the sequence and prefills all but the last, which is the next step's root.</summary>
    internal void Append(RunState run, ReadOnlySpan<int> tokens)
    {
        if (run.Done) throw new InvalidOperationException("The run has ended; start a new one.");
        var first = run.PromptLength < 0;
        var what = first ? "prompt" : "appended sequence";
        var maxLength = _context.Length;
        var length = first ? 0 : _length;
        if (tokens.IsEmpty) throw new ArgumentException($"The {what} is empty; at least one token is needed.", first ? "prompt" : nameof(tokens));
        if (length + tokens.Length >= maxLength)
            throw new ArgumentException(first
                ? $"The prompt has {tokens.Length} tokens but MaxSequenceLength is {maxLength}: at most {maxLength - 1} prompt tokens leave room to generate."
                : $"Appending {tokens.Length} tokens to {_length} leaves no room below MaxSequenceLength {maxLength}.", first ? "prompt" : nameof(tokens));
        for (var i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)_config.VocabSize)
                throw new ArgumentException($"{(first ? "Prompt" : "Appended")} token {i} is {tokens[i]}, outside the vocabulary 0..{_config.VocabSize - 1}.", first ? "prompt" : nameof(tokens));
        }
        try
        {
            run.Cancellation.ThrowIfCancellationRequested();
            var t0 = Stopwatch.GetTimestamp();
            if (first)
            {
                var kept = KeepCachedPrefix(run, tokens);
                _length = kept;
                run.Statistics.ReusedPromptTokens = kept;
                run.Statistics.PromptTokens += kept;
                tokens = tokens[kept..];
            }
            tokens.CopyTo(_context.AsSpan(_length));
            _length += tokens.Length;
            run.Statistics.PromptTokens += tokens.Length;
            Prefill(run);
            var t1 = Stopwatch.GetTimestamp();
            run.Statistics.PrefillTicks += t1 - t0;
            if (first)
            {
                run.PromptLength = _length;
                run.DecodeStartTicks = t1;
                if (run.Options.MaxNewTokens == 0) Finish(run, StopReason.MaxNewTokens);
            }
        }
        catch (Exception e) when (IsCancellation(e, run.Cancellation))
        {
            throw new OperationCanceledException("Generation was cancelled.", e, run.Cancellation);
        }
    }

    /// <summary>
    /// Starts the run's sequence: with <see cref="GenerationOptions.ReuseCachedPrefix"/>, keeps the cached positions
    /// of the previous sequence that the prompt repeats (never the prompt's last token, which is the first step's
    /// root); otherwise empties the cache. Returns how many prompt tokens are already cached.
    /// </summary>
    private int KeepCachedPrefix(RunState run, ReadOnlySpan<int> prompt)
    {
        var kept = 0;
        if (run.Options.ReuseCachedPrefix)
        {
            // Cached positions match _context up to _length; a step that stopped early may have cached rows past it.
            var limit = Math.Min(Math.Min(_cache.Length, _length), prompt.Length - 1);
            while (kept < limit && _context[kept] == prompt[kept]) kept++;
        }
        if (kept == 0) _cache.Reset();
        else _cache.Truncate(kept);
        return kept;
    }

    /// <summary>Runs the sequence minus its last token through the model in chunks; the last token is the next step's root.</summary>
    private void Prefill(RunState run)
    {
        var end = _length - 1;
        while (_cache.Length < end)
        {
            var past = _cache.Length;
            var rows = Math.Min(_pass.MaxRows, end - past);
            VerificationBatch.FillCausal(_context.AsSpan(past, rows), past, _pass.InputIds(rows), _pass.PositionIds(rows), _pass.Mask(rows),
                _config.SlidingWindow);
            _pass.Run(rows, run.RunOptions);
            _cache.Commit(rows, _allRows.AsSpan(0, rows));
        }
    }

    /// <summary>One verification step; false once the run has ended (the step may still have added tokens).</summary>
    internal bool Step(RunState run)
    {
        if (run.PromptLength < 0) throw new InvalidOperationException("Append the prompt (GenerationRun.AppendTokens) before the first step.");
        if (run.Done) return false;
        try
        {
            run.Cancellation.ThrowIfCancellationRequested();
            StepCore(run);
        }
        catch (OnnxRuntimeException e) when (IsCancellation(e, run.Cancellation))
        {
            throw new OperationCanceledException("Generation was cancelled.", e, run.Cancellation);
        }
        return !run.Done;
    }

    private void StepCore(RunState run)
    {
        var stats = run.Statistics;
        var options = run.Options;
        var t0 = Stopwatch.GetTimestamp();

        // Auto budget: after steps where drafts existed but none paid for their drafting time, skip drafting
        // for 1, 2, 4, ... 16 steps before trying again, so a source that cannot help costs (almost) nothing.
        var skipped = run.Auto && run.SkipDrafting > 0;
        if (skipped)
        {
            run.SkipDrafting--;
            _tree.Clear();
        }
        else
        {
            run.Source.Draft(_context.AsSpan(0, _length), _tree);
            // Whatever a source drafts (a corrupt datastore, a custom source), no id outside the vocabulary reaches the model.
            if (!AllInVocabulary(_tree.Tokens, _config.VocabSize))
            {
                if (_remap.Length < _tree.Count) _remap = new int[_tree.Capacity];
                _tree.RemoveOutOfVocabulary(_config.VocabSize, _remap);
            }
        }
        var tDraft = Stopwatch.GetTimestamp();
        var room = _context.Length - _length;            // tokens that still fit
        var remaining = options.MaxNewTokens - stats.TokensGenerated;
        var past = _cache.Length;
        // A step yields at most depth + 1 tokens and caches nodes + 1 rows: trim what cannot be used.
        var maxDepth = Math.Min(room, remaining) - 1;
        var maxNodes = Math.Min(room, run.Budget);
        DraftTree tree;
        long calibrationTicks = 0;
        if (run.Auto && _tree.Count > 0)
        {
            run.ScoredUnscored = HasUnscored(_tree);
            if (run.ScoredUnscored) _model.Calibration(UnscoredKind).ScoreUnscored(_tree);
            if (!_model.StepCosts.IsCalibrated)
            {
                var c0 = Stopwatch.GetTimestamp();
                Calibrate(run, past, Math.Min(maxNodes, _tree.Capacity) + 1);
                calibrationTicks = Stopwatch.GetTimestamp() - c0;
            }
            if (double.IsNaN(run.OverheadSeconds))
                run.OverheadSeconds = (double)(Stopwatch.GetTimestamp() - t0 - calibrationTicks) / Stopwatch.Frequency;
            run.Gain ??= _model.Gain(options.Drafting.Name + (options.DraftFromHistory ? "+history" : ""));
            _selector.Select(_tree, _model.StepCosts.Curve(past), run.OverheadSeconds, maxDepth, maxNodes, _truncated, run.CompactionSeconds, run.Gain.Scale);
            tree = _truncated;
        }
        else
        {
            run.ScoredUnscored = false;
            tree = Limit(_tree, maxDepth, maxNodes);
        }
        var t1 = Stopwatch.GetTimestamp();
        if (run.Auto && !skipped) Pace(run, tree.Count, (double)(t1 - t0 - calibrationTicks) / Stopwatch.Frequency, past);

        var rows = tree.Count + 1;
        VerificationBatch.FillInputs(tree, _context[_length - 1], past, _pass.InputIds(rows), _pass.PositionIds(rows));
        var tInputs = Stopwatch.GetTimestamp();
        VerificationBatch.FillMask(tree, past, _pass.Mask(rows), _config.SlidingWindow);
        var tMask = Stopwatch.GetTimestamp();
        _pass.Run(rows, run.RunOptions);
        var t2 = Stopwatch.GetTimestamp();

        var logits = new PassLogits(_pass);
        if (run.Sampling is { } sampling) sampling.Accept(tree, logits, run.Random!, _path);
        else GreedyAcceptance.Accept(tree, logits, _path);
        var t3 = Stopwatch.GetTimestamp();

        _cache.Commit(rows, _path.KeptRows);
        var t4 = Stopwatch.GetTimestamp();

        var tokens = _path.Tokens;
        if (run.Auto && tree.Count > 0 && run.Gain is { } gain) gain.Record(_selector.ExpectedTokens - 1, tokens.Length - 1);
        // Odds learn from every candidate the source offered, verified or not; costs from every step.
        run.Source.Observe(tokens);
        if (run.ScoredUnscored) _model.Calibration(UnscoredKind).Observe(_tree, tokens);
        _model.StepCosts.RecordTicks(rows, past, t2 - t1);
        stats.RecordStep(tokens.Length, tree.Count);
        if (options.AdaptiveBudget && !run.Auto && tree.Count > 0) run.Budget = AdaptBudget(run.Budget, options.Draft.Budget, tokens.Length - 1, tree.MaxDepth);
        foreach (var token in tokens)
        {
            if (Array.IndexOf(run.StopTokens, token) >= 0)
            {
                Finish(run, StopReason.StopToken);
                break;
            }
            _context[_length++] = token;
            stats.TokensGenerated++;
            if (stats.TokensGenerated >= options.MaxNewTokens) Finish(run, StopReason.MaxNewTokens);
            else if (_length >= _context.Length) Finish(run, StopReason.MaxSequenceLength);
            if (run.Done) break;
        }
        if (run.Text is { } text && text.Append(_context.AsSpan(run.PromptLength, _length - run.PromptLength), final: run.Done))
            Finish(run, StopReason.StopString);
        var t5 = Stopwatch.GetTimestamp();

        _phases = new StepPhases
        {
            Rows = rows,
            Draft = tDraft - t0,
            Select = t1 - tDraft - calibrationTicks,
            Inputs = tInputs - t1,
            Mask = tMask - tInputs,
            Bind = _pass.LastBindTicks,
            Run = t2 - tMask - _pass.LastBindTicks,
            Readback = _pass.ReadbackTicks,
            Accept = t3 - t2 - _pass.ReadbackTicks,
            Commit = t4 - t3,
            Bookkeeping = t5 - t4,
        };
        stats.CalibrationTicks += calibrationTicks;
        stats.DraftingTicks += t1 - t0 - calibrationTicks;
        stats.ModelTicks += t2 - t1;
        stats.AcceptanceTicks += t3 - t2;
        stats.CacheTicks += t4 - t3;
        stats.BookkeepingTicks += t5 - t4;
        stats.DecodeTicks = t5 - run.DecodeStartTicks;
        if (run.Auto)
        {
            // What a step costs besides t(rows), estimated like t (a trimmed mean of recent samples): everything
            // but the pass and compaction, and the compaction a step with rejected rows adds.
            run.OverheadSeconds = run.Overhead.Add((double)(t5 - t0 - calibrationTicks - (t2 - t1) - (t4 - t3)) / Stopwatch.Frequency);
            if (_path.KeptRows.Length < rows) run.CompactionSeconds = run.Compaction.Add((double)(t4 - t3) / Stopwatch.Frequency);
        }
    }

    /// <summary>The mean of the last 16 samples without the largest (as <see cref="StepCostModel"/> keeps t); allocation-free.</summary>
    internal sealed class RecentMean
    {
        private readonly double[] _ring = new double[16];
        private readonly double[] _sort = new double[16];
        private int _count;

        public double Add(double value)
        {
            _ring[_count++ % _ring.Length] = value;
            var kept = Math.Min(_count, _ring.Length);
            _ring.AsSpan(0, kept).CopyTo(_sort);
            var sorted = _sort.AsSpan(0, kept);
            sorted.Sort();
            return StepCostModel.TrimmedMean(sorted);
        }
    }

    /// <summary>
    /// Drafting's back-off: a step that verifies no draft although drafting took more than 2% of a one-row step
    /// doubles the pause (1, 2, 4, ... 16 steps without drafting); a step that verifies a draft ends it.
    /// </summary>
    private void Pace(RunState run, int chosen, double draftSeconds, int past)
    {
        if (chosen > 0)
        {
            run.Backoff = 0;
            return;
        }
        var costs = _model.StepCosts.Curve(past);
        if (costs.Length > 1 && draftSeconds > 0.02 * costs[1])
        {
            run.Backoff = Math.Min(16, Math.Max(1, run.Backoff * 2));
            run.SkipDrafting = run.Backoff;
        }
    }

    /// <summary>Source kind of the calibration for nodes a source left unscored.</summary>
    internal const string UnscoredKind = "unscored";

    private static bool HasUnscored(DraftTree tree)
    {
        foreach (var p in tree.Probabilities)
            if (float.IsNaN(p)) return true;
        return false;
    }

    /// <summary>
    /// The cost model's one-time sweep: forward passes of 1 .. <paramref name="maxRows"/> rows (a chain of the
    /// root token, at the current cached length), timed and recorded, three rounds interleaved after an unrecorded
    /// one (the first run of a shape is slower). Nothing is committed, so the cache and the output are unchanged.
    /// </summary>
    private void Calibrate(RunState run, int past, int maxRows)
    {
        maxRows = Math.Min(maxRows, Math.Min(_pass.MaxRows, _cache.MaxLength - past));
        var root = _context[_length - 1];
        for (var round = 0; round < 4; round++)
        {
            for (var rows = 1; rows <= maxRows; rows = rows < 8 ? rows + 1 : rows < 32 ? rows + 4 : rows + 8)
            {
                _truncated.Clear();
                for (var i = 0; i < rows - 1; i++) _truncated.Add(root, i - 1);
                var start = Stopwatch.GetTimestamp();
                VerificationBatch.Fill(_truncated, root, past, _pass.InputIds(rows), _pass.PositionIds(rows), _pass.Mask(rows));
                _pass.Run(rows, run.RunOptions);
                if (round > 0) _model.StepCosts.RecordTicks(rows, past, Stopwatch.GetTimestamp() - start);
            }
        }
        _model.StepCosts.MarkCalibrated();
    }

    /// <summary>
    /// Benchmarks only: cuts the sequence back to its first <paramref name="length"/> tokens (at least the prompt) and the
    /// KV cache to all of them but the last, the next step's root, so the same step can be timed again at the same length.
    /// </summary>
    internal void Rewind(RunState run, int length)
    {
        if (run.PromptLength < 0 || length < run.PromptLength || length > _length)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"Rewind within {run.PromptLength}..{_length}.");
        _length = length;
        _cache.Truncate(Math.Min(_cache.Length, length - 1));
        run.Done = false;
        run.Statistics.TokensGenerated = length - run.PromptLength;
    }

    private static void Finish(RunState run, StopReason reason)
    {
        if (run.Done) return;
        run.Done = true;
        run.StopReason = reason;
    }

    internal void End(RunState run)
    {
        if (run.Ended) return;
        run.Ended = true;
        if (run.Options.DraftFromHistory && run.Options.Drafting.Drafts && run.PromptLength >= 0)
        {
            var from = run.Options.AddPromptsToHistory ? 0 : run.PromptLength;
            if (_length > from) (run.Options.History ?? _model.History).Append(_context.AsSpan(from, _length - from));
        }
        run.Registration.Dispose();
        run.RunOptions.Dispose();
        Volatile.Write(ref _busy, 0);
    }

    /// <summary>
    /// The tree itself, or a copy without nodes deeper than <paramref name="maxDepth"/>, with at most
    /// <paramref name="maxNodes"/> nodes, and without nodes (and their subtrees) whose id lies outside the
    /// vocabulary: a draft source (a corrupt datastore, a custom source) is not trusted to stay inside it, and
    /// such an id must never reach the model's Gather.
    /// </summary>
    private DraftTree Limit(DraftTree tree, int maxDepth, int maxNodes)
    {
        if (tree.MaxDepth <= maxDepth && tree.Count <= maxNodes) return tree;
        _truncated.Clear();
        var tokens = tree.Tokens;
        var parents = tree.Parents;
        var depths = tree.Depths;
        if (_remap.Length < tree.Count) _remap = new int[tree.Capacity];
        for (var i = 0; i < tree.Count; i++)
        {
            _remap[i] = -2;
            if (depths[i] > maxDepth || _truncated.Count >= maxNodes) continue;
            var parent = parents[i] < 0 ? -1 : _remap[parents[i]];
            if (parent == -2) continue; // its parent was dropped
            _remap[i] = _truncated.Add(tokens[i], parent);
        }
        return _truncated;
    }

    private static bool AllInVocabulary(ReadOnlySpan<int> tokens, int vocabSize)
    {
        foreach (var t in tokens)
            if ((uint)t >= (uint)vocabSize) return false;
        return true;
    }

    /// <summary>The strategy's source for these draft options: the one built last time when both are unchanged.</summary>
    private IDraftSource ResolveSource(GenerationOptions options)
    {
        var history = options.DraftFromHistory && options.Drafting.Drafts ? options.History ?? _model.History : null;
        if (!ReferenceEquals(_sourceStrategy, options.Drafting) || _sourceOptions != options.Draft || !ReferenceEquals(_sourceHistory, history))
        {
            var source = options.Drafting.CreateSource(options.Draft, _model);
            _source = history is not null
                ? new Drafting.Sources.MergedDraftSource(options.Draft.CandidateBudget, _model.Calibration($"merged:{options.Drafting.Name}+history"), pace: true, source,
                    new Drafting.Sources.HistoryDraftSource(history, options.Draft, _model.Calibration("history")))
                : source;
            _sourceStrategy = options.Drafting;
            _sourceOptions = options.Draft;
            _sourceHistory = history;
        }
        return _source;
    }

    /// <summary>Multiplicative budget control: halve after a fully rejected step, double after a deep accept.</summary>
    internal static int AdaptBudget(int budget, int maxBudget, int acceptedDrafts, int treeDepth)
    {
        if (acceptedDrafts == 0) return Math.Max(1, budget / 2);
        if (acceptedDrafts * 2 >= treeDepth) return Math.Min(maxBudget, budget * 2);
        return budget;
    }

    /// <summary>Grows the per-step buffers when a run asks for a larger draft budget (once, not per step).</summary>
    private void EnsureCapacity(int budget)
    {
        var maxRows = Math.Min(_context.Length, budget + 1);
        if (maxRows > _pass.MaxRows)
        {
            var pass = new ForwardPass(_model.Session, _config, _model.Backend, _cache, maxRows);
            _pass.Dispose();
            _pass = pass;
            _allRows = Iota(maxRows);
        }
        if (_tree.Capacity != budget)
        {
            _tree = new DraftTree(budget);
            _truncated = new DraftTree(budget);
        }
    }

    /// <summary>ONNX Runtime reports a run stopped through <see cref="RunOptions.Terminate"/> as an error.</summary>
    private static bool IsCancellation(Exception e, CancellationToken cancellationToken)
        => e is OnnxRuntimeException && cancellationToken.IsCancellationRequested;
}
