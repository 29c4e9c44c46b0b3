using System.Buffers;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Rest.Onnx.DemoModel.Corpus.Large;

/// <summary>Why a file of the large corpus was left out (<see cref="ExclusionReason.None"/>: it was kept).</summary>
public enum ExclusionReason
{
    /// <summary>Kept.</summary>
    None,
    /// <summary>Larger than <see cref="DemoCorpus.MaxFileBytes"/>: generated data, not code (DemoCorpus's rule).</summary>
    TooLarge,
    /// <summary>A NUL byte or invalid UTF-8: not text.</summary>
    NotText,
    /// <summary>Nothing to tokenize (no bytes, or only a byte-order mark).</summary>
    Empty,
    /// <summary>The same text as a standard-library file (held out or not): the held-out ones are the dev prompts' sources, the rest are in the small store already.</summary>
    StandardLibraryCopy,
    /// <summary>Contains the text of a dev or context prompt verbatim: a copy or near-copy of a prompt's origin file (a backport, a vendored copy).</summary>
    ContainsPrompt,
    /// <summary>The same text as a file kept earlier in corpus order.</summary>
    Duplicate,
}

/// <summary>
/// The large corpus's exclusion rule, the one place that decides which files may enter the large demo datastore.
/// A file is left out when it is too large or not text (the demo corpus's quality rule), when its text equals a
/// standard-library file's, when it contains any dev or context prompt verbatim, or when its text equals a file
/// kept before it. Texts are compared after normalising line endings (CRLF and CR to LF) and dropping a UTF-8
/// byte-order mark, so a copy saved with other line endings is still a copy.
/// <para>
/// Why the prompt test: the dev prompts are cut from held-out standard-library files, and packages carry copies of
/// such files with small edits (backports such as tomli, typing_extensions or importlib_metadata, vendored copies in
/// pip and setuptools); an exact-hash test misses those, and a draft copied from one would score a prompt on its
/// own answer. Every prompt holds at least a whole signature and docstring, so containing one verbatim is a copy.
/// </para>
/// <see cref="Inspect"/> depends only on the file and may run in parallel; <see cref="Admit"/> keeps the first of
/// equal texts and must see files one at a time, in corpus order.
/// </summary>
public sealed class CorpusExclusion
{
    private readonly HashSet<UInt128> _standardLibrary;
    private readonly SearchValues<string>? _prompts;
    private readonly HashSet<UInt128> _kept = [];

    /// <param name="standardLibraryTexts">The texts of the standard-library files.</param>
    /// <param name="prompts">The dev and context prompts.</param>
    public CorpusExclusion(IEnumerable<string> standardLibraryTexts, IEnumerable<string> prompts)
    {
        ArgumentNullException.ThrowIfNull(standardLibraryTexts);
        ArgumentNullException.ThrowIfNull(prompts);
        _standardLibrary = [.. standardLibraryTexts.Select(t => Hash(Normalise(t)))];
        // A trailing newline is dropped, so a copy that ends right after a prompt's last line still matches.
        var normalised = prompts.Select(p => Normalise(p).TrimEnd('\n')).Where(p => p.Length > 0).Distinct(StringComparer.Ordinal).ToArray();
        PromptCount = normalised.Length;
        _prompts = normalised.Length == 0 ? null : SearchValues.Create(normalised, StringComparison.Ordinal);
        StandardLibraryFiles = _standardLibrary.Count;
    }

    /// <summary>Distinct standard-library texts the rule compares against.</summary>
    public int StandardLibraryFiles { get; }

    /// <summary>Distinct prompts the rule looks for.</summary>
    public int PromptCount { get; }

    /// <summary>
    /// The rule for the demo model: every file of <see cref="DemoCorpus.Scan"/> under <paramref name="standardLibraryRoot"/>
    /// (both splits) and the prompts of the JSONL files (a <c>prompt</c> field per line).
    /// </summary>
    /// <exception cref="InvalidDataException">A prompts file has a line that is not an object with a string <c>prompt</c>.</exception>
    public static CorpusExclusion ForDemo(string standardLibraryRoot, IEnumerable<string> promptFiles)
    {
        var corpus = DemoCorpus.Scan(standardLibraryRoot);
        var prompts = new List<string>();
        foreach (var file in promptFiles)
        {
            var line = 0;
            foreach (var text in File.ReadLines(file))
            {
                line++;
                if (string.IsNullOrWhiteSpace(text)) continue;
                using var json = JsonDocument.Parse(text);
                if (json.RootElement.ValueKind != JsonValueKind.Object || !json.RootElement.TryGetProperty("prompt", out var prompt) || prompt.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"{file}:{line}: expected an object with a string \"prompt\" field.");
                prompts.Add(prompt.GetString()!);
            }
        }
        return new CorpusExclusion(corpus.Files.Select(f => f.ReadText()), prompts);
    }

    /// <summary>The checks that depend on the file alone (thread-safe), and the hash of its normalised text for <see cref="Admit"/>.</summary>
    public (ExclusionReason Reason, UInt128 Hash) Inspect(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > DemoCorpus.MaxFileBytes) return (ExclusionReason.TooLarge, default);
        if (bytes.Contains((byte)0) || !Utf8.IsValid(bytes)) return (ExclusionReason.NotText, default);
        if (bytes.StartsWith("\uFEFF"u8)) bytes = bytes[3..];
        if (bytes.IsEmpty) return (ExclusionReason.Empty, default);
        var text = Normalise(Encoding.UTF8.GetString(bytes));
        var hash = Hash(text);
        if (_standardLibrary.Contains(hash)) return (ExclusionReason.StandardLibraryCopy, hash);
        if (_prompts is not null && text.AsSpan().ContainsAny(_prompts)) return (ExclusionReason.ContainsPrompt, hash);
        return (ExclusionReason.None, hash);
    }

    /// <summary>The order-dependent check: a text equal to one admitted before is a duplicate. Not thread-safe; call in corpus order.</summary>
    public ExclusionReason Admit(ExclusionReason inspected, UInt128 hash)
    {
        if (inspected != ExclusionReason.None) return inspected;
        return _kept.Add(hash) ? ExclusionReason.None : ExclusionReason.Duplicate;
    }

    /// <summary><see cref="Inspect"/> then <see cref="Admit"/>: the whole rule for one file, in corpus order.</summary>
    public ExclusionReason Classify(ReadOnlySpan<byte> bytes)
    {
        var (reason, hash) = Inspect(bytes);
        return Admit(reason, hash);
    }

    private static string Normalise(string text)
    {
        if (text.StartsWith('\uFEFF')) text = text[1..];
        return text.Contains('\r', StringComparison.Ordinal) ? text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n') : text;
    }

    private static UInt128 Hash(string text) => XxHash128.HashToUInt128(Encoding.UTF8.GetBytes(text));
}
