using System.Text.Json;
using System.Text.Json.Nodes;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Export.Llama;

/// <summary>
/// The fields of a Hugging Face <c>config.json</c> that define a Llama-family decoder
/// (Llama 2/3/3.1/3.2, CodeLlama, TinyLlama, Vicuna: <c>LlamaForCausalLM</c>; Mistral: <c>MistralForCausalLM</c>,
/// the Llama decoder with an optional sliding attention window; Qwen2/Qwen2.5: <c>Qwen2ForCausalLM</c>, the Llama
/// decoder with q/k/v projection biases).
/// </summary>
public sealed record LlamaConfig
{
    /// <summary><c>LlamaForCausalLM</c>.</summary>
    public const string Llama = "LlamaForCausalLM";
    /// <summary><c>MistralForCausalLM</c>.</summary>
    public const string Mistral = "MistralForCausalLM";
    /// <summary><c>Qwen2ForCausalLM</c>.</summary>
    public const string Qwen2 = "Qwen2ForCausalLM";

    /// <summary>Architectures this exporter converts.</summary>
    public static readonly IReadOnlyList<string> SupportedArchitectures = [Llama, Mistral, Qwen2];

    /// <summary>Hugging Face <c>model_type</c> of each supported architecture (read when <c>architectures</c> is absent).</summary>
    private static readonly Dictionary<string, string> ModelTypes = new()
    {
        [Llama] = "llama", [Mistral] = "mistral", [Qwen2] = "qwen2",
    };

    /// <summary>The <c>model_type</c> of <see cref="Architecture"/> ("llama", "mistral" or "qwen2").</summary>
    public string ModelType => ModelTypes.TryGetValue(Architecture, out var type) ? type : "llama";

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
    /// <summary>
    /// Sliding attention window applied on every layer, or null for full attention: Mistral's <c>sliding_window</c>;
    /// Qwen2's only when <c>use_sliding_window</c> is true and it covers all layers. A position p attends to q when p - q &lt; window.
    /// </summary>
    public int? SlidingWindow { get; init; }
    /// <summary>Whether the q/k/v projections have biases (<c>self_attn.{q,k,v}_proj.bias</c>): Qwen2, and only it.</summary>
    public bool QkvBias => Architecture == Qwen2;

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
            var modelType = o["model_type"] is JsonValue mt && mt.TryGetValue<string>(out var typeName) ? typeName : null;
            var byType = ModelTypes.FirstOrDefault(kv => kv.Value == modelType).Key
                ?? throw new NotSupportedException($"'{path}' names no architecture and model_type {(modelType is null ? "is missing" : $"\"{modelType}\" is not supported")} (supported: {string.Join(", ", ModelTypes.Values)}); supported architectures: {supported}.");
            archs.Add(byType);
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
        bool Flag(string key) => o[key] is JsonValue fv && fv.TryGetValue<bool>(out var f) && f;
        // Qwen2's q/k/v biases are fixed by the architecture; a Llama attention_bias would also bias o_proj (not built).
        foreach (var bias in new[] { "attention_bias", "mlp_bias" })
            if (Flag(bias))
                throw new NotSupportedException($"'{path}': {bias}=true is not supported (Llama and Mistral projections have no bias; Qwen2 has q/k/v biases only).");

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
            // Newer transformers write rope_parameters {rope_type, rope_theta, ...} instead of rope_theta/rope_scaling.
            RopeTheta = Num("rope_theta", o["rope_parameters"] is JsonObject rp && rp["rope_theta"] is JsonValue rt && rt.TryGetValue<double>(out var theta) ? theta : 10000),
            RopeScaling = ParseRopeScaling(o["rope_scaling"] ?? o["rope_parameters"], path),
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
            SlidingWindow = arch == Llama ? null : ParseSlidingWindow(o, arch, OptInt("num_hidden_layers") ?? 0, path),
        };
        config.Validate(path);
        return config;
    }

    /// <summary>
    /// The window that applies to every layer, or null. Mistral: <c>sliding_window</c> (null = none). Qwen2: none unless
    /// <c>use_sliding_window</c>, then layers from <c>max_window_layers</c> on slide. An explicit <c>layer_types</c> list
    /// decides instead. One mask serves all layers, so a window on only some layers is refused.
    /// </summary>
    private static int? ParseSlidingWindow(JsonObject o, string arch, int layers, string path)
    {
        int? window = o["sliding_window"] is JsonValue v && v.TryGetValue<long>(out var n) ? checked((int)n) : null;
        if (window is <= 0) throw new InvalidDataException($"'{path}': sliding_window must be positive or null, got {window}.");
        bool sliding;
        string how;
        if (o["layer_types"] is JsonArray types)
        {
            var names = types.Select(t => t is JsonValue tv && tv.TryGetValue<string>(out var name) ? name : "").ToList();
            int slidingLayers = names.Count(t => t == "sliding_attention");
            if (names.Any(t => t is not ("sliding_attention" or "full_attention")))
                throw new NotSupportedException($"'{path}': layer_types holds {string.Join(", ", names.Distinct().Where(t => t is not ("sliding_attention" or "full_attention")).Select(t => $"\"{t}\""))}; supported: \"full_attention\", \"sliding_attention\".");
            sliding = slidingLayers > 0;
            how = slidingLayers == names.Count ? "" : $"{slidingLayers} of {names.Count} layers in layer_types";
        }
        else if (arch == Qwen2)
        {
            bool use = o["use_sliding_window"] is JsonValue u && u.TryGetValue<bool>(out var on) && on;
            int first = o["max_window_layers"] is JsonValue m && m.TryGetValue<long>(out var f) ? checked((int)f) : 28;
            sliding = use && window is not null && first < layers;
            how = first <= 0 ? "" : $"layers {first}..{layers - 1} (max_window_layers {first})";
        }
        else
        {
            sliding = window is not null;
            how = "";
        }
        if (!sliding) return null;
        if (window is null) throw new InvalidDataException($"'{path}': layer_types has sliding_attention layers but sliding_window is null.");
        if (how.Length > 0)
            throw new NotSupportedException($"'{path}': a sliding window on only some layers ({how}) is not supported; the exported graph takes one mask for all layers.");
        return window;
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
        if (!SupportedArchitectures.Contains(Architecture))
            throw new NotSupportedException($"'{source}': unsupported architecture {Architecture}; supported architectures: {string.Join(", ", SupportedArchitectures)}.");
        if (SlidingWindow is <= 0) throw new InvalidDataException($"'{source}': sliding_window must be positive or null, got {SlidingWindow}.");
        if (SlidingWindow is not null && Architecture == Llama)
            throw new NotSupportedException($"'{source}': LlamaForCausalLM has no sliding window; use MistralForCausalLM.");
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
            ["model_type"] = ModelType,
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
            ["torch_dtype"] = "float32",
        };
        if (Architecture == Llama)
        {
            o["attention_bias"] = false;
            o["mlp_bias"] = false;
        }
        else if (Architecture == Mistral)
        {
            o["sliding_window"] = SlidingWindow;
        }
        else
        {
            // Qwen2: the window is off unless use_sliding_window; max_window_layers 0 slides every layer.
            o["use_sliding_window"] = SlidingWindow is not null;
            o["sliding_window"] = SlidingWindow ?? 4096;
            o["max_window_layers"] = SlidingWindow is null ? NumLayers : 0;
        }
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
            long layer = 2 * h + h * q + 2 * h * kv + q * h + 3 * h * IntermediateSize + (QkvBias ? q + 2 * kv : 0);
            return (long)VocabSize * h * (TiedEmbeddings ? 1 : 2) + NumLayers * layer + h;
        }
    }
}
