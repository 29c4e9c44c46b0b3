using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rest.Onnx.Export;

/// <summary>Input names of the graph; <c>{0}</c> in the cache names is the layer index.</summary>
public sealed record RestModelInputs
{
    /// <summary>int64 [batch, seq].</summary>
    public string InputIds { get; init; } = "input_ids";
    /// <summary>int64 [batch, seq].</summary>
    public string PositionIds { get; init; } = "position_ids";
    /// <summary>float32 [batch, 1, seq, past + seq] additive (opset23), or int64 [batch, past + seq] (genai).</summary>
    public string AttentionMask { get; init; } = "attention_mask";
    /// <summary>Past key name pattern.</summary>
    public string PastKey { get; init; } = "past_key_values.{0}.key";
    /// <summary>Past value name pattern.</summary>
    public string PastValue { get; init; } = "past_key_values.{0}.value";
}

/// <summary>Output names of the graph; <c>{0}</c> in the cache names is the layer index.</summary>
public sealed record RestModelOutputs
{
    /// <summary>float32 [batch, seq, vocab].</summary>
    public string Logits { get; init; } = "logits";
    /// <summary>Present key name pattern.</summary>
    public string PresentKey { get; init; } = "present.{0}.key";
    /// <summary>Present value name pattern.</summary>
    public string PresentValue { get; init; } = "present.{0}.value";
}

/// <summary>The llama3 / linear rope scaling as written to <c>rest-model.json</c>.</summary>
public sealed record RestModelRopeScaling(string Type, double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositions);

/// <summary>
/// <c>rest-model.json</c>: everything the runtime needs to drive the exported graph (see docs/export.md).
/// </summary>
public sealed record RestModelManifest
{
    /// <summary>File name next to <c>model.onnx</c>.</summary>
    public const string FileName = "rest-model.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>Always "rest-onnx-model".</summary>
    public string Format { get; init; } = "rest-onnx-model";
    /// <summary>Schema version (1).</summary>
    public int FormatVersion { get; init; } = 1;
    /// <summary>Source architecture, e.g. LlamaForCausalLM.</summary>
    public string Architecture { get; init; } = "LlamaForCausalLM";
    /// <summary>"opset23" or "genai".</summary>
    public string GraphVariant { get; init; } = "opset23";
    /// <summary>ONNX default-domain opset.</summary>
    public int Opset { get; init; } = 23;
    /// <summary>"float32" or "float16": weights and KV cache; logits are float32.</summary>
    public string Dtype { get; init; } = "float32";
    /// <summary>Decoder layers.</summary>
    public int NumLayers { get; init; }
    /// <summary>Hidden size.</summary>
    public int HiddenSize { get; init; }
    /// <summary>MLP width.</summary>
    public int IntermediateSize { get; init; }
    /// <summary>Query heads.</summary>
    public int NumHeads { get; init; }
    /// <summary>Key/value heads.</summary>
    public int NumKvHeads { get; init; }
    /// <summary>Head size.</summary>
    public int HeadSize { get; init; }
    /// <summary>Vocabulary size (logits width).</summary>
    public int VocabSize { get; init; }
    /// <summary>Positions the rotary tables cover: position ids must be below this.</summary>
    public int MaxPositions { get; init; }
    /// <summary>RMSNorm epsilon.</summary>
    public double RmsNormEps { get; init; }
    /// <summary>Rotary base.</summary>
    public double RopeTheta { get; init; }
    /// <summary>Rotary scaling, or null.</summary>
    public RestModelRopeScaling? RopeScaling { get; init; }
    /// <summary>Whether the lm head is the embedding matrix.</summary>
    public bool TiedEmbeddings { get; init; }
    /// <summary>BOS id, or null.</summary>
    public int? BosTokenId { get; init; }
    /// <summary>EOS ids (any of them ends generation).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    /// <summary>Pad id from config.json, or null.</summary>
    public int? PadTokenId { get; init; }
    /// <summary>Graph input names.</summary>
    public RestModelInputs Inputs { get; init; } = new();
    /// <summary>Graph output names.</summary>
    public RestModelOutputs Outputs { get; init; } = new();
    /// <summary>Graph file name.</summary>
    public string ModelFile { get; init; } = "model.onnx";
    /// <summary>Copied tokenizer file name, or null.</summary>
    public string? TokenizerFile { get; init; }
    /// <summary><c>TokenizerFingerprint.OfPath</c> of the copied tokenizer file, or null.</summary>
    public string? TokenizerFingerprint { get; init; }

    /// <summary>Writes the manifest as indented camelCase JSON.</summary>
    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    /// <summary>Reads a manifest from a file or a model folder.</summary>
    /// <exception cref="FileNotFoundException">No rest-model.json.</exception>
    /// <exception cref="InvalidDataException">Not a rest-onnx-model manifest, or a newer format version.</exception>
    public static RestModelManifest Load(string fileOrFolder)
    {
        var path = Directory.Exists(fileOrFolder) ? Path.Combine(fileOrFolder, FileName) : fileOrFolder;
        if (!File.Exists(path)) throw new FileNotFoundException($"No {FileName} at '{path}'.", path);
        RestModelManifest? m;
        try { m = JsonSerializer.Deserialize<RestModelManifest>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidDataException($"'{path}' is not a valid {FileName}: {e.Message}", e); }
        if (m is null || m.Format != "rest-onnx-model")
            throw new InvalidDataException($"'{path}' is not a rest-onnx-model manifest (format '{m?.Format}').");
        if (m.FormatVersion != 1)
            throw new InvalidDataException($"'{path}' has formatVersion {m.FormatVersion}; this build reads version 1.");
        return m;
    }
}
