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
        public long StartTicks { get; init; }
        public long DecodeStartTicks { get; set; }
        public bool Done { get; set; }
        public bool Ended { get; set; }
        public StopReason StopReason { get; set; }
    }

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
            EnsureCapacity(options.Draft.Budget);
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
                Budget = options.AdaptiveBudget ? Math.Min(options.Draft.Budget, 16) : options.Draft.Budget,
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

        run.Source.Draft(_context.AsSpan(0, _length), _tree);
        var room = _context.Length - _length;            // tokens that still fit
        var remaining = options.MaxNewTokens - stats.TokensGenerated;
        // A step yields at most depth + 1 tokens and caches nodes + 1 rows: trim what cannot be used.
        var tree = Limit(_tree, maxDepth: Math.Min(room, remaining) - 1, maxNodes: Math.Min(room, run.Budget));
        var t1 = Stopwatch.GetTimestamp();

        var rows = tree.Count + 1;
        var past = _cache.Length;
        VerificationBatch.Fill(tree, _context[_length - 1], past, _pass.InputIds(rows), _pass.PositionIds(rows), _pass.Mask(rows),
            _config.SlidingWindow);
        _pass.Run(rows, run.RunOptions);
        var t2 = Stopwatch.GetTimestamp();

        var logits = new PassLogits(_pass);
        if (run.Sampling is { } sampling) sampling.Accept(tree, logits, run.Random!, _path);
        else GreedyAcceptance.Accept(tree, logits, _path);
        var t3 = Stopwatch.GetTimestamp();

        _cache.Commit(rows, _path.KeptRows);
        var t4 = Stopwatch.GetTimestamp();

        var tokens = _path.Tokens;
        stats.RecordStep(tokens.Length, tree.Count);
        if (options.AdaptiveBudget && tree.Count > 0) run.Budget = AdaptBudget(run.Budget, options.Draft.Budget, tokens.Length - 1, tree.MaxDepth);
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

        stats.DraftingTicks += t1 - t0;
        stats.ModelTicks += t2 - t1;
        stats.AcceptanceTicks += t3 - t2;
        stats.CacheTicks += t4 - t3;
        stats.DecodeTicks = Stopwatch.GetTimestamp() - run.DecodeStartTicks;
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
        if (tree.MaxDepth <= maxDepth && tree.Count <= maxNodes && AllInVocabulary(tree.Tokens, _config.VocabSize)) return tree;
        _truncated.Clear();
        var tokens = tree.Tokens;
        var parents = tree.Parents;
        var depths = tree.Depths;
        if (_remap.Length < tree.Count) _remap = new int[tree.Capacity];
        for (var i = 0; i < tree.Count; i++)
        {
            _remap[i] = -2;
            if (depths[i] > maxDepth || _truncated.Count >= maxNodes || (uint)tokens[i] >= (uint)_config.VocabSize) continue;
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
        if (!ReferenceEquals(_sourceStrategy, options.Drafting) || _sourceOptions != options.Draft)
        {
            _source = options.Drafting.CreateSource(options.Draft);
            _sourceStrategy = options.Drafting;
            _sourceOptions = options.Draft;
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
