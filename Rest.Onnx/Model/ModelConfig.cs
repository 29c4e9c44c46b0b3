using System.Text.Json;

namespace Rest.Onnx;

/// <summary>
/// The runtime's view of <c>rest-model.json</c> (see docs/export.md): graph variant, dimensions,
/// special token ids and the graph's input and output names.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>File name of the config inside a model folder.</summary>
    public const string FileName = "rest-model.json";

    /// <summary>Graph flavour; the runtime drives <c>opset23</c> graphs.</summary>
    public required string GraphVariant { get; init; }

    /// <summary>KV cache element type: <c>float32</c> or <c>float16</c>.</summary>
    public required string DType { get; init; }

    /// <summary>Decoder layers.</summary>
    public required int NumLayers { get; init; }

    /// <summary>Key/value heads (grouped-query attention).</summary>
    public required int NumKvHeads { get; init; }

    /// <summary>Size of one attention head.</summary>
    public required int HeadSize { get; init; }

    /// <summary>Vocabulary size (logits per row).</summary>
    public required int VocabSize { get; init; }

    /// <summary>Longest sequence the model was trained for.</summary>
    public required int MaxPositions { get; init; }

    /// <summary>Beginning-of-sequence id, if any.</summary>
    public int? BosTokenId { get; init; }

    /// <summary>End-of-sequence ids (default stop tokens).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>ONNX file inside the folder.</summary>
    public required string ModelFile { get; init; }

    /// <summary>Tokenizer file inside the folder, if one was exported.</summary>
    public string? TokenizerFile { get; init; }

    /// <summary>The tokenizer fingerprint datastores must match, if the model has a tokenizer.</summary>
    public string? TokenizerFingerprint { get; init; }

    /// <summary>Graph input names.</summary>
    public required string InputIdsName { get; init; }

    /// <summary>Graph input name of the position ids.</summary>
    public required string PositionIdsName { get; init; }

    /// <summary>Graph input name of the additive 4D mask.</summary>
    public required string AttentionMaskName { get; init; }

    /// <summary>Past key name pattern with <c>{0}</c> for the layer.</summary>
    public required string PastKeyPattern { get; init; }

    /// <summary>Past value name pattern with <c>{0}</c> for the layer.</summary>
    public required string PastValuePattern { get; init; }

    /// <summary>Logits output name.</summary>
    public required string LogitsName { get; init; }

    /// <summary>Present key name pattern with <c>{0}</c> for the layer.</summary>
    public required string PresentKeyPattern { get; init; }

    /// <summary>Present value name pattern with <c>{0}</c> for the layer.</summary>
    public required string PresentValuePattern { get; init; }

    /// <summary>Bytes of one KV cache element.</summary>
    public int KvElementSize => DType == "float16" ? 2 : 4;

    /// <summary>Reads and validates a <c>rest-model.json</c> file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The JSON is malformed, a field is missing or has a value the runtime does not support.</exception>
    public static ModelConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Model config '{path}' not found (expected {FileName} written by the exporter).", path);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            return Parse(document.RootElement, path);
        }
    }

    private static ModelConfig Parse(JsonElement root, string path)
    {
        var format = String(root, "format", path);
        if (format != "rest-onnx-model") throw Bad(path, "format", "\"rest-onnx-model\"", format);
        var version = Int(root, "formatVersion", path);
        if (version != 1) throw Bad(path, "formatVersion", "1", version.ToString());
        var variant = String(root, "graphVariant", path);
        if (variant != "opset23") throw Bad(path, "graphVariant", "\"opset23\" (the only variant this runtime drives)", variant);
        var dtype = String(root, "dtype", path);
        if (dtype is not ("float32" or "float16")) throw Bad(path, "dtype", "\"float32\" or \"float16\"", dtype);

        var inputs = Object(root, "inputs", path);
        var outputs = Object(root, "outputs", path);
        var eos = new List<int>();
        if (root.TryGetProperty("eosTokenIds", out var eosElement) && eosElement.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in eosElement.EnumerateArray()) eos.Add(e.GetInt32());
        }

        var config = new ModelConfig
        {
            GraphVariant = variant,
            DType = dtype,
            NumLayers = Positive(root, "numLayers", path),
            NumKvHeads = Positive(root, "numKvHeads", path),
            HeadSize = Positive(root, "headSize", path),
            VocabSize = Positive(root, "vocabSize", path),
            MaxPositions = Positive(root, "maxPositions", path),
            BosTokenId = OptionalInt(root, "bosTokenId"),
            EosTokenIds = eos,
            ModelFile = String(root, "modelFile", path),
            TokenizerFile = OptionalString(root, "tokenizerFile"),
            TokenizerFingerprint = OptionalString(root, "tokenizerFingerprint"),
            InputIdsName = String(inputs, "inputIds", path),
            PositionIdsName = String(inputs, "positionIds", path),
            AttentionMaskName = String(inputs, "attentionMask", path),
            PastKeyPattern = String(inputs, "pastKey", path),
            PastValuePattern = String(inputs, "pastValue", path),
            LogitsName = String(outputs, "logits", path),
            PresentKeyPattern = String(outputs, "presentKey", path),
            PresentValuePattern = String(outputs, "presentValue", path),
        };
        return config;
    }

    private static InvalidDataException Bad(string path, string field, string expected, string actual)
        => new($"'{path}': field '{field}' is {actual}, expected {expected}.");

    private static JsonElement Object(JsonElement e, string name, string path)
        => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object
            ? v
            : throw new InvalidDataException($"'{path}': field '{name}' is missing or not an object.");

    private static string String(JsonElement e, string name, string path)
        => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw new InvalidDataException($"'{path}': field '{name}' is missing or not a string.");

    private static int Int(JsonElement e, string name, string path)
        => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i)
            ? i
            : throw new InvalidDataException($"'{path}': field '{name}' is missing or not an integer.");

    private static int Positive(JsonElement e, string name, string path)
    {
        var value = Int(e, name, path);
        return value > 0 ? value : throw Bad(path, name, "a positive integer", value.ToString());
    }

    private static int? OptionalInt(JsonElement e, string name)
        => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : null;

    private static string? OptionalString(JsonElement e, string name)
        => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
