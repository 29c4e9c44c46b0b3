using Google.Protobuf;
using Onnx;
using Rest.Onnx.Export.Llama;
using Rest.Onnx.Export.Onnx;
using Rest.Onnx.Export.Safetensors;
using Rest.Onnx.Manifest;

namespace Rest.Onnx.Export;

/// <summary>
/// Converts a Hugging Face Llama, Mistral or Qwen2 folder (config.json + safetensors) into the ONNX model folder the Rest.Onnx
/// runtime loads: <c>model.onnx</c>, <c>model.onnx.data</c>, <c>rest-model.json</c> and the tokenizer files.
/// The contract is docs/export.md.
/// </summary>
public static class LlamaExporter
{
    /// <summary>ONNX IR version that goes with opset 23.</summary>
    private const long IrVersion = 11;

    /// <summary>ONNX default-domain opset of the graph.</summary>
    public const int Opset = 23;

    /// <summary>External weight file name.</summary>
    public const string DataFileName = "model.onnx.data";

    /// <summary>Files copied from the source folder when present.</summary>
    public static readonly IReadOnlyList<string> TokenizerFiles =
        ["tokenizer.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "chat_template.jinja"];

    /// <summary>Exports <paramref name="hfFolder"/> into <paramref name="outFolder"/> (created if needed).</summary>
    /// <param name="hfFolder">Folder with config.json and model.safetensors (or the sharded index).</param>
    /// <param name="outFolder">Destination folder.</param>
    /// <param name="options">dtype, graph variant, external data; <c>default</c> = float32 opset 23 with external data.</param>
    /// <param name="progress">Receives one report per tensor written.</param>
    /// <exception cref="FileNotFoundException">config.json or the weights are missing.</exception>
    /// <exception cref="NotSupportedException">The architecture or a config feature is not supported (the message lists what is).</exception>
    /// <exception cref="KeyNotFoundException">A tensor the config needs is missing (named in the message).</exception>
    /// <exception cref="InvalidDataException">A tensor has the wrong shape or dtype, or a file is truncated or malformed.</exception>
    public static ExportResult Export(string hfFolder, string outFolder, ExportOptions options = default, IProgress<ExportProgress>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(hfFolder);
        ArgumentException.ThrowIfNullOrEmpty(outFolder);
        var config = LlamaConfig.Load(hfFolder);
        int maxPositions = options.MaxPositions ?? config.MaxPositions;
        if (maxPositions <= 0) throw new ArgumentOutOfRangeException(nameof(options), $"MaxPositions must be positive, got {maxPositions}.");
        if (maxPositions > RotaryFrequencies.MaxTablePositions(config.HeadSize))
            throw new InvalidDataException(
                $"{(options.MaxPositions is null ? "max_position_embeddings" : "MaxPositions")} {maxPositions} exceeds the {RotaryFrequencies.MaxTablePositions(config.HeadSize)} positions the rotary tables hold at head size {config.HeadSize}; export with a smaller MaxPositions (--max-positions).");
        int? padTokenId = options.PadTokenId ?? config.PadTokenId;
        if (padTokenId is int pad && (pad < 0 || pad >= config.VocabSize))
            throw new ArgumentOutOfRangeException(nameof(options), $"PadTokenId {pad} is outside the vocabulary [0, {config.VocabSize}).");
        if (options.Int4BlockSize is { } block && (block < 16 || (block & (block - 1)) != 0))
            throw new ArgumentOutOfRangeException(nameof(options), $"Int4BlockSize must be a power of two of at least 16, got {block}.");
        if (options.Int4AccuracyLevel is < 0 or > 4)
            throw new ArgumentOutOfRangeException(nameof(options), $"Int4AccuracyLevel must be within 0..4, got {options.Int4AccuracyLevel}.");
        if (config.SlidingWindow is not null && options.Variant == GraphVariant.GenAIGqa)
            throw new NotSupportedException($"A sliding window ({config.SlidingWindow}) is not supported in the genai-gqa variant (GroupQueryAttention's own mask); export --variant genai or gqa.");
        using var weights = SafetensorsCheckpoint.Open(hfFolder);
        // A failed export must not leave an empty or half-written folder behind: remove the folder if this export made it.
        var createdFolder = !Directory.Exists(outFolder);
        Directory.CreateDirectory(outFolder);
        try
        {
            return ExportInto(hfFolder, outFolder, config, weights, maxPositions, padTokenId, options, progress);
        }
        catch
        {
            if (createdFolder)
            {
                try { Directory.Delete(outFolder, recursive: true); }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
            throw;
        }
    }

    private static ExportResult ExportInto(string hfFolder, string outFolder, LlamaConfig config, SafetensorsCheckpoint weights,
        int maxPositions, int? padTokenId, ExportOptions options, IProgress<ExportProgress>? progress)
    {

        const string ModelFile = "model.onnx";
        var modelPath = Path.Combine(outFolder, ModelFile);
        var dataPath = Path.Combine(outFolder, DataFileName);
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Rest.Onnx.Export",
            ProducerVersion = typeof(LlamaExporter).Assembly.GetName().Version?.ToString() ?? "0",
            DocString = $"{config.Architecture} exported by rest-export ({Describe(options)})",
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });

        OnnxGraphBuilder builder;
        int tensorCount;
        if (options.EmbedWeights)
        {
            if (File.Exists(dataPath)) File.Delete(dataPath);
            builder = new OnnxGraphBuilder("rest_llama", null);
            tensorCount = LlamaGraph.Build(config, weights, builder, options, maxPositions, progress);
            if (builder.InitializerBytes >= int.MaxValue)
                throw new NotSupportedException($"Weights are {builder.InitializerBytes} bytes; protobuf caps a model at 2 GB, so export without EmbedWeights.");
        }
        else
        {
            try
            {
                using var data = new ExternalDataFile(dataPath);
                builder = new OnnxGraphBuilder("rest_llama", data);
                tensorCount = LlamaGraph.Build(config, weights, builder, options, maxPositions, progress);
            }
            catch
            {
                // A half-written weight file must not pass for an export.
                File.Delete(dataPath);
                throw;
            }
        }
        model.Graph = builder.Graph;
        if (builder.UsesMicrosoftDomain) model.OpsetImport.Add(new OperatorSetIdProto { Domain = OnnxGraphBuilder.MicrosoftDomain, Version = 1 });
        // The runtime checks this against rest-model.json: driving an opset23 graph through a shared buffer would be silently wrong.
        model.MetadataProps.Add(new StringStringEntryProto { Key = GraphVariantMetadataKey, Value = VariantName(options.Variant) });
        using (var stream = new FileStream(modelPath, FileMode.Create, FileAccess.Write))
            model.WriteTo(stream);

        string? tokenizerFile = null;
        foreach (var name in TokenizerFiles)
        {
            var source = Path.Combine(hfFolder, name);
            if (!File.Exists(source)) continue;
            var destination = Path.Combine(outFolder, name);
            if (!string.Equals(Path.GetFullPath(source), Path.GetFullPath(destination), StringComparison.Ordinal))
                File.Copy(source, destination, overwrite: true);
            // The runtime loads tokenizer.json when both are there (as HF does), so its fingerprint is the one recorded.
            if (name == "tokenizer.json" || (name == "tokenizer.model" && tokenizerFile is null)) tokenizerFile = name;
        }

        var manifest = new ModelManifest
        {
            Architecture = config.Architecture,
            GraphVariant = options.Variant,
            Opset = Opset,
            Dtype = options.DType,
            NumLayers = config.NumLayers,
            HiddenSize = config.HiddenSize,
            IntermediateSize = config.IntermediateSize,
            NumHeads = config.NumHeads,
            NumKvHeads = config.NumKvHeads,
            HeadSize = config.HeadSize,
            VocabSize = config.VocabSize,
            MaxPositions = maxPositions,
            RmsNormEps = config.RmsNormEps,
            RopeTheta = config.RopeTheta,
            RopeScaling = config.RopeScaling,
            TiedEmbeddings = config.TiedEmbeddings,
            SlidingWindow = config.SlidingWindow,
            BosTokenId = config.BosTokenId,
            EosTokenIds = config.EosTokenIds,
            PadTokenId = padTokenId,
            ModelFile = ModelFile,
            TokenizerFile = tokenizerFile,
            TokenizerFingerprint = tokenizerFile is null ? null
                : Tokenization.TokenizerFingerprint.OfPath(Path.Combine(outFolder, tokenizerFile)),
        };
        var manifestPath = Path.Combine(outFolder, ModelManifest.FileName);
        manifest.Save(manifestPath);
        if (options.Variant is GraphVariant.GenAI or GraphVariant.GenAIGqa)
            GenAiConfig.Write(Path.Combine(outFolder, GenAiConfig.FileName), config, maxPositions,
                padTokenId ?? 0, ModelFile, sharedBuffer: options.Variant == GraphVariant.GenAIGqa);
        return new ExportResult(modelPath, manifestPath, manifest, builder.InitializerBytes, tensorCount);
    }

    /// <summary>Key of the model.onnx metadata entry naming the graph variant (as rest-model.json spells it).</summary>
    public const string GraphVariantMetadataKey = "rest.graphVariant";

    private static string VariantName(GraphVariant v) => v switch
    {
        GraphVariant.Gqa => "gqa", GraphVariant.GenAI => "genai", GraphVariant.GenAIGqa => "genai-gqa", _ => "opset23",
    };

    private static string Describe(ExportOptions o)
        => o.DType == ModelDType.Int4
            ? $"{o.DType} block {o.Int4BlockSize ?? ExportOptions.DefaultInt4BlockSize} accuracy level {o.Int4AccuracyLevel}, {o.Variant}"
            : $"{o.DType}, {o.Variant}";
}
