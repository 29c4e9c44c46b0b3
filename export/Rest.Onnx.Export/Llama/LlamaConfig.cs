using System.Text.Json;
using System.Text.Json.Nodes;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Export.Llama;

/// <summary>
/// The fields of a Hugging Face <c>config.json</c> that define a Llama-family decoder
/// (Llama 2/3/3.1/3.2, CodeLlama, TinyLlama, Vicuna: <c>LlamaForCausalLM</c>).
/// </summary>
public sealed record LlamaConfig
{
    /// <summary>Architectures this exporter converts.</summary>
    public static readonly IReadOnlyList<string> SupportedArchitectures = ["LlamaForCausalLM"];

    /// <summary>The architecture name (one of <see cref="SupportedArchitectures"/>).</summary>
    public string Architecture { get; init; } = "LlamaForCausalLM";
    /// <summary><c>hidden_size</c>.</summary>
    public int HiddenSize { get; init; }
    /// <summary><c>intermediate_size</c> (MLP width).</summary>
    public int IntermediateSize { get; init; }
    /// <summary><c>num_hidden_layers</c>.</summary>
    public int NumLayers { get; init; }
    /// <summary><c>num_attention_heads</c>.</summary>
    public int NumHeads { get; init; }
    /// <summary><c>num_key_value_heads</c> (defaults to the head count).</summary>
    public int NumKvHeads { get; init; }
    /// <summary><c>head_dim</c>, or hidden_size / heads.</summary>
    public int HeadSize { get; init; }
    /// <summary><c>vocab_size</c>.</summary>
    public int VocabSize { get; init; }
    /// <summary><c>max_position_embeddings</c>.</summary>
    public int MaxPositions { get; init; }
    /// <summary><c>rms_norm_eps</c>.</summary>
    public double RmsNormEps { get; init; } = 1e-6;
    /// <summary><c>rope_theta</c> (10000 when absent).</summary>
    public double RopeTheta { get; init; } = 10000;
    /// <summary><c>rope_scaling</c>, or null.</summary>
    public RopeScaling? RopeScaling { get; init; }
    /// <summary><c>tie_word_embeddings</c>: the lm head reuses the embedding matrix.</summary>
    public bool TiedEmbeddings { get; init; }
    /// <summary><c>bos_token_id</c>, or null.</summary>
    public int? BosTokenId { get; init; }
    /// <summary><c>eos_token_id</c> (a number or a list), possibly empty.</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    /// <summary><c>pad_token_id</c>, or null.</summary>
    public int? PadTokenId { get; init; }

    /// <summary>Reads <c>config.json</c> from a file or a model folder and validates it.</summary>
    /// <exception cref="FileNotFoundException">No config.json.</exception>
    /// <exception cref="NotSupportedException">The architecture, activation, biases or rope scaling type are not supported; the message lists what is.</exception>
    /// <exception cref="InvalidDataException">A field is missing or inconsistent.</exception>
    public static LlamaConfig Load(string fileOrFolder)
    {
        var path = Directory.Exists(fileOrFolder) ? Path.Combine(fileOrFolder, "config.json") : fileOrFolder;
        if (!File.Exists(path)) throw new FileNotFoundException($"No config.json at '{path}'.", path);
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e); }
        if (root is not JsonObject o) throw new InvalidDataException($"'{path}' is not a JSON object.");
        return Parse(o, path);
    }

    private static LlamaConfig Parse(JsonObject o, string path)
    {
        var archs = o["architectures"] is JsonArray a ? a.Select(x => x?.GetValue<string>() ?? "").ToList() : [];
        var supported = string.Join(", ", SupportedArchitectures);
        if (archs.Count == 0)
        {
            if (o["model_type"]?.GetValue<string>() != "llama")
                throw new NotSupportedException($"'{path}' names no architecture and model_type is not \"llama\"; supported architectures: {supported}.");
            archs.Add("LlamaForCausalLM");
        }
        var arch = archs.FirstOrDefault(SupportedArchitectures.Contains)
            ?? throw new NotSupportedException($"Unsupported architecture {string.Join(", ", archs)} in '{path}'; supported architectures: {supported}.");

        int Int(string key) => o[key] is JsonValue v && v.TryGetValue<long>(out var n) ? checked((int)n)
            : throw new InvalidDataException($"'{path}': required integer field \"{key}\" is missing or not an integer.");
        int? OptInt(string key) => o[key] is JsonValue v && v.TryGetValue<long>(out var n) ? checked((int)n) : null;
        double Num(string key, double fallback) => o[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : fallback;

        var act = o["hidden_act"]?.GetValue<string>() ?? "silu";
        if (act != "silu") throw new NotSupportedException($"'{path}': hidden_act \"{act}\" is not supported (only \"silu\").");
        foreach (var bias in new[] { "attention_bias", "mlp_bias" })
            if (o[bias] is JsonValue bv && bv.TryGetValue<bool>(out var hasBias) && hasBias)
                throw new NotSupportedException($"'{path}': {bias}=true is not supported (Llama projections have no bias).");

        int hidden = Int("hidden_size"), heads = Int("num_attention_heads");
        int kvHeads = OptInt("num_key_value_heads") ?? heads;
        int headSize = OptInt("head_dim") ?? (heads > 0 ? hidden / heads : 0);
        var config = new LlamaConfig
        {
            Architecture = arch,
            HiddenSize = hidden,
            IntermediateSize = Int("intermediate_size"),
            NumLayers = Int("num_hidden_layers"),
            NumHeads = heads,
            NumKvHeads = kvHeads,
            HeadSize = headSize,
            VocabSize = Int("vocab_size"),
            MaxPositions = OptInt("max_position_embeddings") ?? 2048,
            RmsNormEps = Num("rms_norm_eps", 1e-6),
            RopeTheta = Num("rope_theta", 10000),
            RopeScaling = ParseRopeScaling(o["rope_scaling"], path),
            TiedEmbeddings = o["tie_word_embeddings"] is JsonValue t && t.TryGetValue<bool>(out var tied) && tied,
            BosTokenId = OptInt("bos_token_id"),
            EosTokenIds = o["eos_token_id"] switch
            {
                JsonArray list => list.Select(x => checked((int)x!.GetValue<long>())).ToArray(),
                JsonValue v when v.TryGetValue<long>(out var e) => [checked((int)e)],
                _ => [],
            },
            PadTokenId = OptInt("pad_token_id"),
        };
        config.Validate(path);
        return config;
    }

    private static RopeScaling? ParseRopeScaling(JsonNode? node, string path)
    {
        if (node is not JsonObject s) return null;
        var type = (s["rope_type"] ?? s["type"])?.GetValue<string>() ?? "";
        if (type == "default") return null;
        if (!RopeScaling.SupportedTypes.Contains(type))
            throw new NotSupportedException($"'{path}': rope_scaling type \"{type}\" is not supported; supported: {string.Join(", ", RopeScaling.SupportedTypes)}.");
        double Num(string key, double fallback) => s[key] is JsonValue v && v.TryGetValue<double>(out var d) ? d : fallback;
        return new RopeScaling(type, Num("factor", 1), Num("low_freq_factor", 1), Num("high_freq_factor", 4),
            (int)Num("original_max_position_embeddings", 8192));
    }

    /// <summary>Checks that sizes are positive and consistent.</summary>
    /// <exception cref="InvalidDataException">A size is non-positive or heads do not divide.</exception>
    public void Validate(string source = "config")
    {
        void Positive(int v, string name)
        {
            if (v <= 0) throw new InvalidDataException($"'{source}': {name} must be positive, got {v}.");
        }
        Positive(HiddenSize, "hidden_size"); Positive(IntermediateSize, "intermediate_size"); Positive(NumLayers, "num_hidden_layers");
        Positive(NumHeads, "num_attention_heads"); Positive(NumKvHeads, "num_key_value_heads"); Positive(HeadSize, "head_dim");
        Positive(VocabSize, "vocab_size"); Positive(MaxPositions, "max_position_embeddings");
        if (NumHeads % NumKvHeads != 0)
            throw new InvalidDataException($"'{source}': num_attention_heads {NumHeads} is not a multiple of num_key_value_heads {NumKvHeads}.");
        if (HeadSize % 2 != 0) throw new InvalidDataException($"'{source}': head size {HeadSize} must be even for rotary embeddings.");
        if (RmsNormEps <= 0) throw new InvalidDataException($"'{source}': rms_norm_eps must be positive, got {RmsNormEps}.");
    }

    /// <summary>Writes a Hugging Face style <c>config.json</c> for this configuration.</summary>
    public void Save(string path)
    {
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray(Architecture),
            ["model_type"] = "llama",
            ["hidden_act"] = "silu",
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumLayers,
            ["num_attention_heads"] = NumHeads,
            ["num_key_value_heads"] = NumKvHeads,
            ["head_dim"] = HeadSize,
            ["vocab_size"] = VocabSize,
            ["max_position_embeddings"] = MaxPositions,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["rope_scaling"] = RopeScaling is null ? null : new JsonObject
            {
                ["rope_type"] = RopeScaling.Type,
                ["factor"] = RopeScaling.Factor,
                ["low_freq_factor"] = RopeScaling.LowFreqFactor,
                ["high_freq_factor"] = RopeScaling.HighFreqFactor,
                ["original_max_position_embeddings"] = RopeScaling.OriginalMaxPositions,
            },
            ["tie_word_embeddings"] = TiedEmbeddings,
            ["attention_bias"] = false,
            ["mlp_bias"] = false,
            ["torch_dtype"] = "float32",
        };
        if (BosTokenId is int bos) o["bos_token_id"] = bos;
        if (EosTokenIds.Count == 1) o["eos_token_id"] = EosTokenIds[0];
        else if (EosTokenIds.Count > 1) o["eos_token_id"] = new JsonArray(EosTokenIds.Select(e => (JsonNode)e).ToArray());
        if (PadTokenId is int pad) o["pad_token_id"] = pad;
        File.WriteAllText(path, o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Parameter count of the decoder (embeddings, layers, final norm, lm head unless tied).</summary>
    public long ParameterCount
    {
        get
        {
            long h = HiddenSize, q = (long)NumHeads * HeadSize, kv = (long)NumKvHeads * HeadSize;
            long layer = 2 * h + h * q + 2 * h * kv + q * h + 3 * h * IntermediateSize;
            return (long)VocabSize * h * (TiedEmbeddings ? 1 : 2) + NumLayers * layer + h;
        }
    }
}
