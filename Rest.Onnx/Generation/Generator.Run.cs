using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Rest.Onnx.Acceptance;
using Rest.Onnx.Datastore.Drafting;
using Rest.Onnx.Execution;

namespace Rest.Onnx;

public sealed partial class Generator
{
    /// <summary>Per-run state: options resolved once, statistics, random source, cancellation hook.</summary>
    private sealed class RunState
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
        public int PromptLength { get; init; }
        public int Budget { get; set; }
        public long StartTicks { get; init; }
        public long DecodeStartTicks { get; set; }
        public bool Done { get; set; }
        public StopReason StopReason { get; set; }
    }

    private RunState Begin(ReadOnlySpan<int> prompt, GenerationOptions options, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ObjectDisposedException.ThrowIf(_model.IsDisposed, _model);
        // default(...) structs bypass the option defaults; give them the documented ones.
        if (options.Draft == default) options = options with { Draft = new() };
        if (options.Sampling == default) options = options with { Sampling = new() };
        options.Validate();
        var maxLength = _context.Length;
        if (prompt.IsEmpty) throw new ArgumentException("The prompt is empty; at least one token is needed.", nameof(prompt));
        if (prompt.Length >= maxLength)
            throw new ArgumentException($"The prompt has {prompt.Length} tokens but MaxSequenceLength is {maxLength}: at most {maxLength - 1} prompt tokens leave room to generate.", nameof(prompt));
        for (var i = 0; i < prompt.Length; i++)
        {
            if ((uint)prompt[i] >= (uint)_config.VocabSize)
                throw new ArgumentException($"Prompt token {i} is {prompt[i]}, outside the vocabulary 0..{_config.VocabSize - 1}.", nameof(prompt));
        }
        if (options.StopStrings is { Count: > 0 } && _model.Tokenizer is null)
            throw new InvalidOperationException($"Stop strings need a tokenizer; model '{_model.Folder}' has none.");
        if (options.Drafting is DraftingStrategy.Rest or DraftingStrategy.Hybrid && options.DraftSource is null && options.Datastores is not { Count: > 0 })
            throw new ArgumentException($"DraftingStrategy.{options.Drafting} needs GenerationOptions.Datastores (open them with RestModel.OpenDatastore).", nameof(options));
        if (Interlocked.Exchange(ref _busy, 1) != 0) throw new InvalidOperationException("This generator is already running; use one generator per concurrent run.");

        RunState? run = null;
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
            run = new RunState
            {
                Options = options,
                Source = ResolveSource(options),
                StopTokens = [.. options.StopTokenIds ?? _config.EosTokenIds],
                Statistics = new GenerationStatistics(_tree.Capacity + 1) { PromptTokens = prompt.Length },
                RunOptions = new RunOptions(),
                Cancellation = cancellationToken,
                Sampling = sampling,
                Random = random,
                Text = _model.Tokenizer is { } tokenizer ? new TextTracker(tokenizer, options.StopStrings) : null,
                PromptLength = prompt.Length,
                Budget = options.AdaptiveBudget ? Math.Min(options.Draft.Budget, 16) : options.Draft.Budget,
                StartTicks = Stopwatch.GetTimestamp(),
            };
            var runOptions = run.RunOptions;
            run.Registration = cancellationToken.Register(() => runOptions.Terminate = true);

            _cache.Reset();
            prompt.CopyTo(_context);
            _length = prompt.Length;
            Prefill(run);
            run.DecodeStartTicks = Stopwatch.GetTimestamp();
            run.Statistics.PrefillTicks = run.DecodeStartTicks - run.StartTicks;
            if (options.MaxNewTokens == 0) Finish(run, StopReason.MaxNewTokens);
            return run;
        }
        catch (Exception e)
        {
            if (run is not null) End(run);
            else Volatile.Write(ref _busy, 0);
            if (IsCancellation(e, cancellationToken)) throw new OperationCanceledException("Generation was cancelled.", e, cancellationToken);
            throw;
        }
    }

    /// <summary>Runs the prompt minus its last token through the model in chunks; the last token is the first step's root.</summary>
    private void Prefill(RunState run)
    {
        var end = _length - 1;
        while (_cache.Length < end)
        {
            var past = _cache.Length;
            var rows = Math.Min(_pass.MaxRows, end - past);
            var ids = _pass.InputIds(rows);
            var positions = _pass.PositionIds(rows);
            var mask = _pass.Mask(rows);
            var columns = past + rows;
            mask.Fill(VerificationBatch.MaskedValue);
            for (var r = 0; r < rows; r++)
            {
                ids[r] = _context[past + r];
                positions[r] = past + r;
                mask.Slice(r * columns, past + r + 1).Clear(); // causal: the prefix and rows up to itself
            }
            _pass.Run(rows, run.RunOptions);
            _cache.Commit(rows, _allRows.AsSpan(0, rows));
        }
    }

    /// <summary>One verification step; false once the run has ended (the step may still have added tokens).</summary>
    private bool Step(RunState run)
    {
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
        VerificationBatch.Fill(tree, _context[_length - 1], past, _pass.InputIds(rows), _pass.PositionIds(rows), _pass.Mask(rows));
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

    private void End(RunState run)
    {
        run.Registration.Dispose();
        run.RunOptions.Dispose();
        Volatile.Write(ref _busy, 0);
    }

    /// <summary>The tree itself, or a copy without nodes deeper than <paramref name="maxDepth"/> and with at most <paramref name="maxNodes"/> nodes.</summary>
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

    private IDraftSource ResolveSource(GenerationOptions options)
    {
        if (options.DraftSource is { } custom) return custom;
        switch (options.Drafting)
        {
            case DraftingStrategy.PromptLookup:
                if (_promptLookup is null || _promptLookup.Options != options.Draft) _promptLookup = new PromptLookupDraftSource(options.Draft);
                return _promptLookup;
            case DraftingStrategy.Rest:
                return DatastoreSource(options);
            case DraftingStrategy.Hybrid:
                if (_promptLookup is null || _promptLookup.Options != options.Draft) _promptLookup = new PromptLookupDraftSource(options.Draft);
                var datastore = DatastoreSource(options);
                if (_hybrid is null || _hybrid.Sources[0] != _promptLookup || _hybrid.Sources[1] != datastore)
                    _hybrid = new MergedDraftSource(_promptLookup, datastore);
                return _hybrid;
            default:
                return NoDraftSource.Instance;
        }
    }

    private DatastoreDraftSource DatastoreSource(GenerationOptions options)
    {
        if (_datastoreSource is null || _datastoreSource.Options != options.Draft || !SameStores(_datastoreSource.Datastores, options.Datastores!))
            _datastoreSource = new DatastoreDraftSource(options.Datastores!, options.Draft);
        return _datastoreSource;
    }

    /// <summary>Multiplicative budget control: halve after a fully rejected step, double after a deep accept.</summary>
    internal static int AdaptBudget(int budget, int maxBudget, int acceptedDrafts, int treeDepth)
    {
        if (acceptedDrafts == 0) return Math.Max(1, budget / 2);
        if (acceptedDrafts * 2 >= treeDepth) return Math.Min(maxBudget, budget * 2);
        return budget;
    }

    private static bool SameStores(IReadOnlyList<RestDatastore> a, IReadOnlyList<RestDatastore> b)
    {
        if (a.Count != b.Count) return false;
        for (var i = 0; i < a.Count; i++) if (!ReferenceEquals(a[i], b[i])) return false;
        return true;
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
