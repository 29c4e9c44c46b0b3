using Microsoft.ML.OnnxRuntime;
using Rest.Onnx.Datastore.Format;
using Rest.Onnx.Datastore.Reading;
using Rest.Onnx.Execution;
using Rest.Onnx.Manifest;
using Rest.Onnx.Tokenization;

namespace Rest.Onnx;

/// <summary>
/// An exported model folder opened on an execution provider: the ONNX Runtime session, the config from
/// <c>rest-model.json</c> and, when the folder has one, the tokenizer. Thread-safe; create one
/// <see cref="Generator"/> per concurrent generation. Dispose after the generators.
/// </summary>
public sealed class RestModel : IDisposable
{
    private readonly IDeviceBackend _backend;
    private readonly List<string> _warnings = [];
    private bool _disposed;

    private RestModel(string folder, ModelManifest config, ModelOptions options)
    {
        Folder = folder;
        Manifest = config;
        var modelPath = Path.Combine(folder, config.ModelFile);
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"Model file '{modelPath}' not found (named by modelFile in {ModelManifest.FileName}).", modelPath);

        var maxLength = options.MaxSequenceLength;
        if (maxLength < 0 || maxLength > config.MaxPositions)
            throw new ArgumentOutOfRangeException(nameof(options), maxLength, $"MaxSequenceLength must be within 0..{config.MaxPositions} (the model's maxPositions).");
        MaxSequenceLength = maxLength > 0 ? maxLength : Math.Min(config.MaxPositions, ModelOptions.DefaultMaxSequenceLength);
        if (options.HistoryTokens is < 16 and not 0) throw new ArgumentOutOfRangeException(nameof(options), options.HistoryTokens, "HistoryTokens must be at least 16 (0 = the default).");
        _historyTokens = options.HistoryTokens == 0 ? ModelOptions.DefaultHistoryTokens : options.HistoryTokens;

        var log = options.Log ?? Console.Error;
        (Session, ExecutionProviderInUse, _backend) = SessionFactory.Create(modelPath, options, message =>
        {
            _warnings.Add(message);
            log.WriteLine(message);
        });

        try
        {
            CheckGraphVariant(modelPath, config);
            ManifestGraphCheck.Check(Session, config, Path.Combine(folder, ModelManifest.FileName), modelPath);
            Tokenizer = LoadTokenizer(folder, config);
            AddsBosToText = ReadAddBosToken(folder);
        }
        catch
        {
            Session.Dispose();
            _backend.Dispose();
            throw;
        }
    }

    /// <summary>The model folder.</summary>
    public string Folder { get; }

    /// <summary>The model's <c>rest-model.json</c>.</summary>
    public ModelManifest Manifest { get; }

    /// <summary>The folder's tokenizer, or null when it has none (generation from token ids still works).</summary>
    public TextTokenizer? Tokenizer { get; }

    /// <summary>
    /// Whether text prompts start with BOS by default: Hugging Face's <c>add_bos_token</c> from the folder's
    /// <c>tokenizer_config.json</c> (the exporter copies it), true when the file or the key is absent.
    /// A model trained without BOS (like the demo model) is only fed what it saw in training.
    /// </summary>
    public bool AddsBosToText { get; }

    /// <summary>The provider actually running the model (CPU after an <see cref="ExecutionProviderKind.Auto"/> fallback).</summary>
    public ExecutionProvider ExecutionProviderInUse { get; }

    /// <summary>Warnings raised while loading (for example the Auto fallback's reason).</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    /// <summary>Most tokens (prompt plus generated) a generator of this model holds.</summary>
    public int MaxSequenceLength { get; }

    /// <summary>
    /// The measured cost of verification steps on this model and execution provider, learned from every
    /// generator's steps (and a short calibration sweep at the first auto-budget step); drives
    /// <see cref="DraftOptions.AutoBudget"/>.
    /// </summary>
    internal StepCostModel StepCosts { get; } = new();

    /// <summary>
    /// The odds calibration this model's generators share for one kind of draft source (<c>promptlookup</c>,
    /// <c>datastore</c>, <c>history</c>, <c>unscored</c> for sources that give no odds, ...).
    /// </summary>
    /// <exception cref="ArgumentException">The kind is null or empty.</exception>
    internal AcceptanceCalibration Calibration(string sourceKind)
    {
        ArgumentException.ThrowIfNullOrEmpty(sourceKind);
        return _calibrations.GetOrAdd(sourceKind, static _ => new AcceptanceCalibration());
    }

    /// <summary>
    /// The store of this model's recent outputs (at most <see cref="ModelOptions.HistoryTokens"/> tokens, oldest
    /// dropped first) that runs with <see cref="GenerationOptions.DraftFromHistory"/> draft from and append to;
    /// shared by every generator of the model. Created on first use.
    /// </summary>
    public TokenHistory History => LazyInitializer.EnsureInitialized(ref _history, ref _historyLock, () => new TokenHistory(_historyTokens));

    private TokenHistory? _history;
    private object? _historyLock;
    private readonly int _historyTokens;

    /// <summary>Realised over expected accepted drafts of the auto budget's chosen trees, per drafting strategy.</summary>
    internal GainCalibration Gain(string strategy) => _gains.GetOrAdd(strategy, static _ => new GainCalibration());

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, GainCalibration> _gains = new(StringComparer.Ordinal);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, AcceptanceCalibration> _calibrations = new(StringComparer.Ordinal);

    internal InferenceSession Session { get; }

    internal IDeviceBackend Backend => _backend;

    internal bool IsDisposed => _disposed;

    /// <summary>Opens a model folder with default options (CPU).</summary>
    /// <inheritdoc cref="Load(string, ModelOptions)"/>
    public static RestModel Load(string folder) => Load(folder, new ModelOptions());

    /// <summary>Opens an exported model folder.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException"><c>rest-model.json</c> or the model file is missing (the path is named).</exception>
    /// <exception cref="InvalidDataException">The config is invalid, disagrees with the graph (names, layers, KV heads, head size, vocabulary, dtype, maxPositions; see docs/runtime.md), or ONNX Runtime cannot load the model.</exception>
    /// <exception cref="ExecutionProviderUnavailableException"><see cref="ExecutionProviderKind.Cuda"/> was requested and CUDA cannot start.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="ModelOptions.MaxSequenceLength"/> exceeds the model's positions.</exception>
    public static RestModel Load(string folder, ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder '{folder}' does not exist.");
        var path = Path.Combine(folder, ModelManifest.FileName);
        var manifest = ModelManifest.Load(path);
        // The runtime's own check on top of the contract: it drives only the 4D-mask graphs.
        if (manifest.GraphVariant is not (GraphVariant.Opset23 or GraphVariant.Gqa))
            throw new InvalidDataException($"'{path}': field 'graphVariant' is {manifest.GraphVariant}; this runtime drives {GraphVariant.Opset23} and {GraphVariant.Gqa} graphs (export with --variant opset23 or gqa).");
        return new RestModel(folder, manifest, options);
    }

    /// <summary>
    /// The exporter names the graph variant in model.onnx's metadata ("rest.graphVariant"; absent in older opset23 exports).
    /// It must agree with rest-model.json: an opset23 graph driven through a shared KV buffer computes wrong results silently.
    /// </summary>
    private void CheckGraphVariant(string modelPath, ModelManifest config)
    {
        var expected = config.GraphVariant == GraphVariant.Gqa ? "gqa" : "opset23";
        var actual = Session.ModelMetadata.CustomMetadataMap.TryGetValue("rest.graphVariant", out var v) ? v : "opset23";
        if (actual != expected)
            throw new InvalidDataException(
                $"'{modelPath}' holds a {actual} graph, but {ModelManifest.FileName}'s field 'graphVariant' is {expected}; re-export the model folder.");
    }

    private static bool ReadAddBosToken(string folder)
    {
        var path = Path.Combine(folder, "tokenizer_config.json");
        if (!File.Exists(path)) return true;
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("add_bos_token", out var add)
                || add.ValueKind != System.Text.Json.JsonValueKind.False;
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>Creates a generator with its own KV cache (allocated once for <see cref="MaxSequenceLength"/>).</summary>
    /// <exception cref="ObjectDisposedException">The model is disposed.</exception>
    public Generator CreateGenerator()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new Generator(this);
    }

    /// <summary>
    /// Opens a datastore for REST drafting. Its tokenizer fingerprint must equal the model's
    /// (<c>tokenizerFingerprint</c> in rest-model.json); a model exported without a tokenizer accepts any.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="TokenizerMismatchException">The datastore was built with another tokenizer.</exception>
    /// <exception cref="InvalidDataException">The datastore's vocabulary is larger than the model's.</exception>
    /// <exception cref="ObjectDisposedException">The model is disposed.</exception>
    public RestDatastore OpenDatastore(string path) => OpenDatastore(path, verifyChecksums: false);

    /// <summary>
    /// Opens a datastore for REST drafting as <see cref="OpenDatastore(string)"/> does and, when
    /// <paramref name="verifyChecksums"/> is set, checks every section checksum and id first (reads the whole
    /// file; see docs/datastore-format.md for the cost). Without it a corrupt store costs only draft quality:
    /// reads are bounds-checked and drafted ids outside the model's vocabulary are dropped.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DatastoreFormatException">The file is not a valid datastore, or a checksum differs.</exception>
    /// <exception cref="TokenizerMismatchException">The datastore was built with another tokenizer.</exception>
    /// <exception cref="InvalidDataException">The datastore's vocabulary is larger than the model's.</exception>
    /// <exception cref="ObjectDisposedException">The model is disposed.</exception>
    public RestDatastore OpenDatastore(string path, bool verifyChecksums)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var expected = Manifest.TokenizerFingerprint ?? Tokenizer?.Fingerprint;
        DatastoreReader reader;
        try
        {
            reader = DatastoreReader.Open(path, expected, verifyChecksums);
        }
        catch (TokenizerMismatchException e)
        {
            static string Describe(string fingerprint) => fingerprint.Length == 0 ? "(none recorded: built from token ids)" : fingerprint;
            throw new TokenizerMismatchException(
                $"Datastore '{e.FilePath}' was built with tokenizer {Describe(e.ActualFingerprint)}, but model '{Folder}' uses {Describe(e.ExpectedFingerprint)}: " +
                "its token ids would mean different text. Rebuild the datastore with the model's tokenizer " +
                "(for token-id input, give the model's tokenizer fingerprint when building).", e);
        }
        if (reader.VocabularySize > Manifest.VocabSize)
        {
            reader.Dispose();
            throw new InvalidDataException($"Datastore '{path}' has a vocabulary of {reader.VocabularySize}, larger than model '{Folder}' ({Manifest.VocabSize}).");
        }
        return new RestDatastore(reader);
    }

    /// <summary>Releases the session. Generators of this model stop working.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Session.Dispose();
        _backend.Dispose();
    }

    private static TextTokenizer? LoadTokenizer(string folder, ModelManifest config)
    {
        var path = Path.Combine(folder, config.TokenizerFile
            ?? (File.Exists(Path.Combine(folder, "tokenizer.json")) ? "tokenizer.json" : "tokenizer.model"));
        if (!File.Exists(path)) return null;
        var tokenizer = TextTokenizer.Load(path);
        if (config.TokenizerFingerprint is { } expected && tokenizer.Fingerprint != expected)
            throw new InvalidDataException($"Tokenizer '{path}' has fingerprint {tokenizer.Fingerprint}, but {ModelManifest.FileName} expects {expected}.");
        return tokenizer;
    }
}
