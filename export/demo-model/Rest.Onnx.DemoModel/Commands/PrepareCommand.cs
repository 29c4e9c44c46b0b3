using System.Buffers.Binary;
using System.CommandLine;
using System.Text;
using System.Text.Json;
using Rest.Onnx.DemoModel.Corpus;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx.DemoModel.Commands;

/// <summary>
/// <c>prepare</c>: tokenizes both splits through <see cref="TextTokenizer"/> (the trainer never
/// tokenizes itself) and writes the dev prompts.
/// </summary>
internal static class PrepareCommand
{
    /// <summary>Dev prompts wanted; the extractor spreads them evenly over all held-out candidates.</summary>
    public const int DevPromptCount = 80;

    /// <summary>
    /// Longest prompt in tokens, so prompt + 128 new tokens fitted the first demo model's 256-token context (kept with
    /// v2's 1,024 positions, so the short prompts and the figures measured on them stay as they were).
    /// </summary>
    public const int MaxPromptTokens = 128;

    /// <summary>
    /// Context prompts wanted: as many as HumanEval has problems (164), so the file stands in for HumanEval's prompts
    /// (a second file, so the 80 short prompts stay as they were). Every def with a docstring that has context is
    /// taken; the held-out files have too few of them, so defs without one (ending with the signature) fill the rest.
    /// </summary>
    public const int ContextPromptCount = 164;

    /// <summary>
    /// Longest context prompt in tokens: HumanEval-like lengths (its prompts run to about 550 tokens with this
    /// tokenizer), and prompt + 256 new tokens fits the 1,024 positions of demo model v2.
    /// </summary>
    public const int MaxContextPromptTokens = 560;

    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    // Prompts are code: keep quotes and '<' readable instead of \u0022 escapes (the file is never embedded in HTML).
    private static readonly JsonSerializerOptions s_readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "folder for train.bin, valid.bin and manifest.json", HelpName = "DIR", Required = true };
        var tokenizerPath = new Option<string>("--tokenizer")
        {
            Description = "tokenizer.model or model folder",
            HelpName = "PATH",
            DefaultValueFactory = _ => "export/demo-model/checkpoint/tokenizer.model",
        };
        var corpusRoot = DemoOptions.Corpus();
        var promptsPath = new Option<string>("--prompts") { Description = "dev prompts file to write (JSONL: signature + docstring)", HelpName = "FILE", DefaultValueFactory = _ => "export/demo-model/dev-prompts.jsonl" };
        var contextPromptsPath = new Option<string>("--context-prompts")
        {
            Description = "context dev prompts file to write (JSONL: whole preceding functions or classes, then signature + docstring)",
            HelpName = "FILE",
            DefaultValueFactory = _ => "export/demo-model/dev-prompts-context.jsonl",
        };
        var command = new Command("prepare",
            "tokenize the training and held-out splits (documents joined with EOS) into <dir>/train.bin and <dir>/valid.bin " +
            "(uint16 little-endian ids) with <dir>/manifest.json, and write the dev prompts")
        {
            output, tokenizerPath, corpusRoot, promptsPath, contextPromptsPath,
        };
        command.SetAction(p => Run(p.InvocationConfiguration.Output, p.GetRequiredValue(output), p.GetRequiredValue(tokenizerPath),
            p.GetRequiredValue(corpusRoot), p.GetRequiredValue(promptsPath), p.GetRequiredValue(contextPromptsPath)));
        return command;
    }

    private static int Run(TextWriter stdout, string outDir, string tokenizerPath, string corpusRoot, string promptsPath, string contextPath)
    {
        var tokenizer = TextTokenizer.Load(tokenizerPath);
        if (tokenizer.VocabularySize > ushort.MaxValue + 1)
            throw new InvalidDataException($"Vocabulary of {tokenizer.VocabularySize} does not fit the uint16 token files.");
        var corpus = DemoCorpus.Scan(corpusRoot);
        Directory.CreateDirectory(outDir);

        var train = WriteTokens(corpus.Training, tokenizer, Path.Combine(outDir, "train.bin"));
        var valid = WriteTokens(corpus.HeldOut, tokenizer, Path.Combine(outDir, "valid.bin"));
        var manifest = new
        {
            corpusRoot = corpus.Root,
            split = $"held out: XxHash3(UTF-8 relative path) % {DemoCorpus.HeldOutModulus} == 0",
            tokenizer = Path.GetFullPath(tokenizer.SourcePath),
            tokenizerFingerprint = tokenizer.Fingerprint,
            vocabularySize = tokenizer.VocabularySize,
            eosId = tokenizer.EosId,
            format = "uint16 little-endian token ids; every document is followed by EOS",
            train = new { files = corpus.Training.Count, tokens = train },
            valid = new { files = corpus.HeldOut.Count, tokens = valid },
        };
        File.WriteAllText(Path.Combine(outDir, "manifest.json"), JsonSerializer.Serialize(manifest, s_indented) + "\n");
        stdout.WriteLine($"train: {corpus.Training.Count} files, {train} tokens; valid: {corpus.HeldOut.Count} files, {valid} tokens; tokenizer {tokenizer.Fingerprint}");

        var prompts = WriteDevPrompts(corpus, tokenizer, promptsPath);
        stdout.WriteLine($"{prompts} dev prompts -> {promptsPath}");
        var (count, candidates, shortest, median, longest) = WriteContextPrompts(corpus, tokenizer, contextPath);
        stdout.WriteLine($"{count} context dev prompts from {candidates} candidates ({shortest}..{longest} tokens, median {median}) -> {contextPath}");
        return Cli.Success;
    }

    /// <summary>Tokenizes files in parallel, writes them in corpus order, each followed by EOS; returns the token count.</summary>
    private static long WriteTokens(IReadOnlyList<CorpusFile> files, TextTokenizer tokenizer, string path)
    {
        var perFile = new int[files.Count][];
        Parallel.For(0, files.Count, () => new List<int>(), (i, _, ids) =>
        {
            ids.Clear();
            tokenizer.Encode(files[i].ReadText(), ids);
            ids.Add(tokenizer.EosId);
            perFile[i] = [.. ids];
            return ids;
        }, _ => { });

        long count = 0;
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            var buffer = new byte[2 * 65536];
            foreach (var ids in perFile)
            {
                for (var start = 0; start < ids.Length; start += 65536)
                {
                    var n = Math.Min(65536, ids.Length - start);
                    for (var j = 0; j < n; j++) BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(2 * j), checked((ushort)ids[start + j]));
                    stream.Write(buffer, 0, 2 * n);
                }
                count += ids.Length;
            }
        }
        File.Move(temp, path, overwrite: true);
        return count;
    }

    private static (int Count, int Candidates, int Shortest, int Median, int Longest) WriteContextPrompts(DemoCorpus corpus, TextTokenizer tokenizer, string path)
    {
        var candidates = new List<ContextDevPrompt>();
        foreach (var file in corpus.HeldOut)
            candidates.AddRange(DevPromptExtractor.ExtractWithContext(file.ReadText(), file.RelativePath, t => tokenizer.Encode(t).Length, MaxContextPromptTokens, requireDocstring: false));
        // In corpus order: every documented candidate, and signature-only ones spread evenly to make up the count
        // (more documented ones than wanted are spread evenly themselves).
        var documented = candidates.Count(p => p.HasDocstring);
        var fill = DevPromptExtractor.SelectEvenly([.. candidates.Where(p => !p.HasDocstring)], Math.Max(0, ContextPromptCount - documented)).ToHashSet();
        var selected = DevPromptExtractor.SelectEvenly([.. candidates.Where(p => p.HasDocstring || fill.Contains(p))], ContextPromptCount);
        var builder = new StringBuilder();
        foreach (var prompt in selected)
        {
            builder.Append(JsonSerializer.Serialize(new
            {
                prompt = prompt.Prompt,
                // line: the def to continue, as in the short prompts (and unique per prompt, so it labels runs);
                // contextLine: where the prompt starts.
                source = new { file = prompt.File, line = prompt.DefLine },
                kind = "context",
                docstring = prompt.HasDocstring,
                contextLine = prompt.Line,
                contextBlocks = prompt.ContextBlocks,
            }, s_readable));
            builder.Append('\n');
        }
        WriteText(path, builder.ToString());
        var lengths = selected.Select(p => tokenizer.Encode(p.Prompt).Length).Order().ToList();
        return lengths.Count == 0 ? (0, candidates.Count, 0, 0, 0) : (lengths.Count, candidates.Count, lengths[0], lengths[lengths.Count / 2], lengths[^1]);
    }

    private static void WriteText(string path, string text)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        File.WriteAllText(path, text, new UTF8Encoding(false));
    }

    private static int WriteDevPrompts(DemoCorpus corpus, TextTokenizer tokenizer, string path)
    {
        var candidates = new List<DevPrompt>();
        foreach (var file in corpus.HeldOut)
        {
            foreach (var prompt in DevPromptExtractor.Extract(file.ReadText(), file.RelativePath))
            {
                if (tokenizer.Encode(prompt.Prompt).Length <= MaxPromptTokens) candidates.Add(prompt);
            }
        }
        var selected = DevPromptExtractor.SelectEvenly(candidates, DevPromptCount);
        var builder = new StringBuilder();
        foreach (var prompt in selected)
        {
            builder.Append(JsonSerializer.Serialize(new { prompt = prompt.Prompt, source = new { file = prompt.File, line = prompt.Line } }, s_readable));
            builder.Append('\n');
        }
        WriteText(path, builder.ToString());
        return selected.Count;
    }
}
