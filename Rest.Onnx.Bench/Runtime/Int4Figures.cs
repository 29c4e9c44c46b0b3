using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Rest.Onnx.Bench.EndToEnd;
using Rest.Onnx.Execution;
using Rest.Onnx.Export;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Bench.Runtime;

/// <summary>
/// <c>figures int4</c>: how far int4 weights move the demo model (export/demo-model/checkpoint) from float32, per block size
/// and accuracy level: greedy agreement over the dev prompts (identical continuations, and the mean length of the common
/// prefix), and along the float32 model's own greedy sequence (teacher-forced, every position) the share of positions with
/// the same argmax and the max |logit error|.
/// </summary>
internal static class Int4Figures
{
    /// <summary>Runs the figures; the command line is <see cref="Commands.FiguresInt4Command"/>.</summary>
    public static int Run(Int4FiguresOptions o, TextWriter log)
    {
        int newTokens = o.NewTokens, promptCount = o.Prompts, threads = o.Threads;
        var cache = Path.Combine(RepositoryPaths.Root, ".cache", "engine-figures", "demo");
        var checkpoint = RepositoryPaths.DemoCheckpoint;
        string Export(ExportOptions o, string name)
        {
            var folder = Path.Combine(cache, name);
            if (!File.Exists(Path.Combine(folder, ModelManifest.FileName))) LlamaExporter.Export(checkpoint, folder, o);
            return folder;
        }
        var fp32Folder = Export(default, "fp32");
        var options = new ModelOptions { IntraOpThreads = threads, MaxSequenceLength = 256 };
        using var fp32 = RestModel.Load(fp32Folder, options);
        var tokenizer = fp32.Tokenizer ?? throw new InvalidOperationException("The demo model has no tokenizer.");
        var prompts = PromptSet.Load(RepositoryPaths.DemoPrompts, promptCount)
            .Select(p => (fp32.AddsBosToText && fp32.Manifest.BosTokenId is { } b ? new[] { b } : []).Concat(tokenizer.Encode(p.Prompt)).ToArray())
            .Where(p => p.Length + newTokens < options.MaxSequenceLength)
            .ToList();
        var greedy = new GenerationOptions { MaxNewTokens = newTokens, StopTokenIds = [] };
        List<int[]> reference;
        using (var g = fp32.CreateGenerator()) reference = [.. prompts.Select(p => g.Generate(p, greedy).Tokens.ToArray())];

        log.WriteLine($"demo model, {prompts.Count} dev prompts, {newTokens} new tokens, float32 vs int4 (embedding float32, every linear layer and the tied lm head int4)");
        log.WriteLine("block  accuracy  same-output prompts  mean common prefix  teacher-forced top-1  max |logit error|  weights MiB");
        foreach (var block in o.BlockSizes)
            foreach (var level in o.AccuracyLevels)
            {
                var folder = Export(new ExportOptions { DType = ModelDType.Int4, Int4BlockSize = block, Int4AccuracyLevel = level }, $"int4-b{block}-a{level}");
                using var int4 = RestModel.Load(folder, options);
                int same = 0, sameTop1 = 0, allPositions = 0;
                double prefix = 0, worst = 0;
                using (var g = int4.CreateGenerator())
                {
                    for (var p = 0; p < prompts.Count; p++)
                    {
                        var tokens = g.Generate(prompts[p], greedy).Tokens.ToArray();
                        if (tokens.SequenceEqual(reference[p])) same++;
                        var common = 0;
                        while (common < tokens.Length && common < reference[p].Length && tokens[common] == reference[p][common]) common++;
                        prefix += common;
                        var (w, top1, positions) = Compare(fp32, int4, [.. prompts[p], .. reference[p]]);
                        worst = Math.Max(worst, w);
                        sameTop1 += top1;
                        allPositions += positions;
                    }
                }
                var mib = Directory.GetFiles(folder, "model.onnx*").Sum(f => new FileInfo(f).Length) / 1048576.0;
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{block,5}  {level,8}  {same,9}/{prompts.Count,-9}  {prefix / prompts.Count,18:F1}  {100.0 * sameTop1 / allPositions,19:F1}%  {worst,17:F3}  {mib,11:F1}"));
            }
        return 0;
    }

    /// <summary>
    /// Max |a - b| over every position's logits of one causal pass over <paramref name="sequence"/> in each model, and at how
    /// many positions both pick the same argmax.
    /// </summary>
    private static (double Worst, int SameTop1, int Positions) Compare(RestModel a, RestModel b, int[] sequence)
    {
        var la = Logits(a, sequence);
        var lb = Logits(b, sequence);
        double worst = 0;
        for (var i = 0; i < la.Length; i++) worst = Math.Max(worst, Math.Abs(la[i] - lb[i]));
        var vocab = a.Manifest.VocabSize;
        var same = 0;
        for (var r = 0; r < sequence.Length; r++)
            if (ArgMax(la.AsSpan(r * vocab, vocab)) == ArgMax(lb.AsSpan(r * vocab, vocab))) same++;
        return (worst, same, sequence.Length);
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        var best = 0;
        for (var i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    private static float[] Logits(RestModel model, int[] sequence)
    {
        var config = model.Manifest;
        using var cache = KvCache.For(model.Backend, config, sequence.Length);
        using var pass = new ForwardPass(model.Session, config, model.Backend, cache, sequence.Length);
        using var runOptions = new RunOptions();
        var rows = sequence.Length;
        VerificationBatch.FillCausal(sequence, 0, pass.InputIds(rows), pass.PositionIds(rows), pass.Mask(rows));
        pass.Run(rows, runOptions);
        var result = new float[rows * config.VocabSize];
        for (var r = 0; r < rows; r++) pass.LogitsRow(r).CopyTo(result.AsSpan(r * config.VocabSize));
        return result;
    }
}

/// <summary>Options of <c>figures int4</c>; the defaults are the full run. The command line is <see cref="Commands.FiguresInt4Command"/>.</summary>
internal sealed record Int4FiguresOptions
{
    /// <summary>int4 block sizes (powers of two, at least 16).</summary>
    public IReadOnlyList<int> BlockSizes { get; init; } = [32, 64, 128];

    /// <summary>MatMulNBits accuracy levels (0..4; 0: float compute, 4: int8 activations).</summary>
    public IReadOnlyList<int> AccuracyLevels { get; init; } = [0, 4];

    /// <summary>Greedy tokens per prompt.</summary>
    public int NewTokens { get; init; } = 32;

    /// <summary>The first N dev prompts; 0 = all.</summary>
    public int Prompts { get; init; }

    /// <summary>Intra-op threads.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
}
