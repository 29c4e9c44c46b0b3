using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Rest.Onnx.Manifest;

/// <summary>
/// <c>rest-model.json</c>: everything the runtime needs to drive an exported graph (see docs/export.md). The exporter
/// writes it with <see cref="Save"/>; the runtime reads it with <see cref="Load"/> and adds only its own checks.
/// </summary>
public sealed record ModelManifest
{
    /// <summary>File name next to <c>model.onnx</c>.</summary>
    public const string FileName = "rest-model.json";

    /// <summary>The value of <see cref="Format"/>.</summary>
    public const string FormatName = "rest-onnx-model";

    /// <summary>The schema version this build writes and reads.</summary>
    public const int CurrentFormatVersion = 1;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>Always <see cref="FormatName"/>.</summary>
    public string Format { get; init; } = FormatName;
    /// <summary>Schema version.</summary>
    public int FormatVersion { get; init; } = CurrentFormatVersion;
    /// <summary>Source architecture, e.g. LlamaForCausalLM.</summary>
    public string Architecture { get; init; } = "LlamaForCausalLM";
    /// <summary>Graph flavour.</summary>
    public GraphVariant GraphVariant { get; init; } = GraphVariant.Opset23;
    /// <summary>ONNX default-domain opset.</summary>
    public int Opset { get; init; } = 23;
    /// <summary>Weights and KV cache element type; logits are float32.</summary>
    public ModelDType Dtype { get; init; } = ModelDType.Float32;
    /// <summary>Decoder layers.</summary>
    public int NumLayers { get; init; }
    /// <summary>Hidden size.</summary>
    public int HiddenSize { get; init; }
    /// <summary>MLP width.</summary>
    public int IntermediateSize { get; init; }
    /// <summary>Query heads.</summary>
    public int NumHeads { get; init; }
    /// <summary>Key/value heads (grouped-query attention).</summary>
    public int NumKvHeads { get; init; }
    /// <summary>Size of one attention head.</summary>
    public int HeadSize { get; init; }
    /// <summary>Vocabulary size (logits per row).</summary>
    public int VocabSize { get; init; }
    /// <summary>Positions the rotary tables cover: position ids must be below this.</summary>
    public int MaxPositions { get; init; }
    /// <summary>RMSNorm epsilon.</summary>
    public double RmsNormEps { get; init; }
    /// <summary>Rotary base.</summary>
    public double RopeTheta { get; init; }
    /// <summary>Rotary scaling, or null.</summary>
    public RopeScaling? RopeScaling { get; init; }
    /// <summary>Whether the lm head is the embedding matrix.</summary>
    public bool TiedEmbeddings { get; init; }
    /// <summary>
    /// Sliding attention window (Mistral's <c>sliding_window</c>), or null for full causal attention: a row at position
    /// p attends only to positions q with p - q &lt; window. The opset-23 graph does not apply it: the 4D mask the runtime passes must (the GenAI variant's mask subgraph applies it itself).
    /// </summary>
    public int? SlidingWindow { get; init; }
    /// <summary>BOS id, or null.</summary>
    public int? BosTokenId { get; init; }
    /// <summary>EOS ids (any of them ends generation; the default stop tokens).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    /// <summary>Pad id from config.json, or null.</summary>
    public int? PadTokenId { get; init; }
    /// <summary>Graph input names.</summary>
    public ModelInputNames Inputs { get; init; } = new();
    /// <summary>Graph output names.</summary>
    public ModelOutputNames Outputs { get; init; } = new();
    /// <summary>Graph file name inside the model folder.</summary>
    public string ModelFile { get; init; } = "model.onnx";
    /// <summary>Copied tokenizer file name, or null.</summary>
    public string? TokenizerFile { get; init; }
    /// <summary>Fingerprint of the copied tokenizer file (datastores must match it), or null.</summary>
    public string? TokenizerFingerprint { get; init; }

    /// <summary>Bytes of one KV cache element.</summary>
    [JsonIgnore]
    public int KvElementSize => Dtype == ModelDType.Float16 ? 2 : 4;

    /// <summary>Writes the manifest as indented camelCase JSON.</summary>
    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    /// <summary>Reads and checks a manifest from a file or a model folder.</summary>
    /// <exception cref="FileNotFoundException">No rest-model.json.</exception>
    /// <exception cref="InvalidDataException">Not valid JSON, not a rest-onnx-model manifest, a newer format version, or a
    /// field that is missing or out of range (the message names the field).</exception>
    public static ModelManifest Load(string fileOrFolder)
    {
        ArgumentNullException.ThrowIfNull(fileOrFolder);
        var path = Directory.Exists(fileOrFolder) ? Path.Combine(fileOrFolder, FileName) : fileOrFolder;
        if (!File.Exists(path)) throw new FileNotFoundException($"No {FileName} at '{path}' (the exporter writes it next to the graph).", path);
        var text = File.ReadAllText(path);
        ModelManifest? m;
        try { m = JsonSerializer.Deserialize<ModelManifest>(text, Json); }
        catch (JsonException e) { throw new InvalidDataException($"'{path}' is not a valid {FileName}: {Describe(e, text)}", e); }
        if (m is null || m.Format != FormatName)
            throw new InvalidDataException($"'{path}' is not a {FormatName} manifest (format '{m?.Format}').");
        if (m.FormatVersion != CurrentFormatVersion)
            throw new InvalidDataException($"'{path}' has formatVersion {m.FormatVersion}; this build reads version {CurrentFormatVersion}.");
        m.Check(path);
        return m;
    }

    private void Check(string path)
    {
        Positive(NumLayers, "numLayers");
        Positive(NumKvHeads, "numKvHeads");
        Positive(HeadSize, "headSize");
        Positive(VocabSize, "vocabSize");
        Positive(MaxPositions, "maxPositions");
        Present(ModelFile, "modelFile");
        Present(Inputs?.InputIds, "inputs.inputIds");
        Present(Inputs?.PositionIds, "inputs.positionIds");
        Present(Inputs?.AttentionMask, "inputs.attentionMask");
        Present(Inputs?.PastKey, "inputs.pastKey");
        Present(Inputs?.PastValue, "inputs.pastValue");
        Present(Outputs?.Logits, "outputs.logits");
        Present(Outputs?.PresentKey, "outputs.presentKey");
        Present(Outputs?.PresentValue, "outputs.presentValue");
        if (SlidingWindow is <= 0) throw new InvalidDataException($"'{path}': field 'slidingWindow' is {SlidingWindow}, expected a positive integer or null.");
        if (EosTokenIds is null) throw new InvalidDataException($"'{path}': field 'eosTokenIds' is null, expected an array of ids.");

        void Positive(int value, string field)
        {
            if (value <= 0) throw new InvalidDataException($"'{path}': field '{field}' is {value}, expected a positive integer.");
        }

        void Present(string? value, string field)
        {
            if (string.IsNullOrEmpty(value)) throw new InvalidDataException($"'{path}': field '{field}' is missing or empty.");
        }
    }

    /// <summary>Names the field and the offending value of a deserialization error (an unknown enum name, say).</summary>
    private static string Describe(JsonException e, string text)
    {
        if (e.Path is not { Length: > 2 } jsonPath || !jsonPath.StartsWith("$.", StringComparison.Ordinal)) return e.Message;
        var field = jsonPath[2..];
        try
        {
            JsonNode? node = JsonNode.Parse(text);
            foreach (var part in field.Split('.')) node = node?[part];
            return $"field '{field}' is {node?.ToJsonString() ?? "missing"}, which is not a valid value.";
        }
        catch (Exception inner) when (inner is JsonException or InvalidOperationException or ArgumentException)
        {
            return $"field '{field}': {e.Message}";
        }
    }
}
