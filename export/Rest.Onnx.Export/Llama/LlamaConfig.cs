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

        int ToInt(string key, long n) => n is >= int.MinValue and <= int.MaxValue ? (int)n
            : throw new InvalidDataException($"'{path}': field \"{key}\" is {n}, outside the 32-bit integer range.");
        int Int(string key) => o[key] is JsonValue v && v.TryGetValue<long>(out var n) ? ToInt(key, n)
            : throw new InvalidDataException($"'{path}': required integer field \"{key}\" is missing or not an integer.");
        int? OptInt(string key) => o[key] is JsonValue v && v.TryGetValue<long>(out var n) ? ToInt(key, n) : null;
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
                JsonArray list => list.Select(x => x is JsonValue ev && ev.TryGetValue<long>(out var e) ? ToInt("eos_token_id", e)
                    : throw new InvalidDataException($"'{path}': \"eos_token_id\" list holds {x?.ToJsonString() ?? "null"}, not an integer.")).ToArray(),
                JsonValue v when v.TryGetValue<long>(out var e) => [ToInt("eos_token_id", e)],
                _ => [],
            },
            // Some published configs write -1 for "no pad token": read that as absent.
            PadTokenId = OptInt("pad_token_id") is int pad && pad >= 0 ? pad : null,
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
        var original = Num("original_max_position_embeddings", 8192);
        if (!(original >= 1 && original <= int.MaxValue))
            throw new InvalidDataException($"'{path}': rope_scaling.original_max_position_embeddings must be in [1, {int.MaxValue}], got {original}.");
        var scaling = new RopeScaling(type, Num("factor", 1), Num("low_freq_factor", 1), Num("high_freq_factor", 4), (int)original);
        if (!(scaling.Factor > 0 && double.IsFinite(scaling.Factor)))
            throw new InvalidDataException($"'{path}': rope_scaling.factor must be a positive number, got {scaling.Factor}.");
        if (type == "llama3" && !(scaling.LowFreqFactor > 0 && scaling.HighFreqFactor > scaling.LowFreqFactor && double.IsFinite(scaling.HighFreqFactor)))
            throw new InvalidDataException($"'{path}': rope_scaling needs 0 < low_freq_factor < high_freq_factor, got {scaling.LowFreqFactor} and {scaling.HighFreqFactor}.");
        return scaling;
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
        if (!(RmsNormEps > 0 && RmsNormEps < 1)) throw new InvalidDataException($"'{source}': rms_norm_eps must be in (0, 1), got {RmsNormEps}.");
        // A non-positive or non-finite theta gives NaN or constant rotations: the model exports but emits garbage.
        if (!(RopeTheta > 0 && double.IsFinite(RopeTheta))) throw new InvalidDataException($"'{source}': rope_theta must be a positive finite number, got {RopeTheta}.");
        // Every weight matrix is converted through one .NET array: bound each one's element count, overflow-safe.
        long h = HiddenSize;
        CheckMatrix(source, "vocab_size x hidden_size (embeddings)", VocabSize, h);
        CheckMatrix(source, "intermediate_size x hidden_size (MLP)", IntermediateSize, h);
        CheckMatrix(source, "num_attention_heads x head_dim x hidden_size (query projection)", (long)NumHeads * HeadSize, h);
        if (NumKvHeads > NumHeads)
            throw new InvalidDataException($"'{source}': num_key_value_heads {NumKvHeads} exceeds num_attention_heads {NumHeads}.");
        if (BosTokenId is int bos && (bos < 0 || bos >= VocabSize))
            throw new InvalidDataException($"'{source}': bos_token_id {bos} is outside the vocabulary [0, {VocabSize}).");
        foreach (var eos in EosTokenIds)
            if (eos < 0 || eos >= VocabSize)
                throw new InvalidDataException($"'{source}': eos_token_id {eos} is outside the vocabulary [0, {VocabSize}).");
        if (PadTokenId is int pad && (pad < 0 || pad >= VocabSize))
            throw new InvalidDataException($"'{source}': pad_token_id {pad} is outside the vocabulary [0, {VocabSize}).");
    }

    private static void CheckMatrix(string source, string what, long rows, long columns)
    {
        if (rows > Array.MaxLength / columns)
            throw new InvalidDataException($"'{source}': {what} is {rows} x {columns} = {(double)rows * columns:E2} elements, more than one tensor can hold ({Array.MaxLength}).");
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
