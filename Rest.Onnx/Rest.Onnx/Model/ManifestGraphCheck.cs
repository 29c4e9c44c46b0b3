using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Rest.Onnx.Manifest;

namespace Rest.Onnx;

/// <summary>
/// Checks <c>rest-model.json</c> against the loaded graph, so a manifest that disagrees with the model fails at
/// load with one message naming the mismatch instead of at the first Generate with a raw ONNX Runtime error:
/// input and output names, the number of layers (past/present names), KV heads and head size (static dims of
/// the past inputs), the vocabulary (last dim of the logits), element types (the dtype), and maxPositions
/// against the length of the exporter's rotary tables (read from the model file; skipped for graphs that do not
/// name them <c>rotary.cos_cache</c>).
/// </summary>
internal static class ManifestGraphCheck
{
    /// <summary>The exporter's name of the cos table, shape [positions, headSize / 2].</summary>
    internal const string CosTableName = "rotary.cos_cache";

    /// <exception cref="InvalidDataException">The manifest and the graph disagree; the message names the field.</exception>
    public static void Check(InferenceSession session, ModelManifest m, string manifestPath, string modelPath)
    {
        var inputs = session.InputMetadata;
        var outputs = session.OutputMetadata;
        string Fail(string what) => $"'{manifestPath}' does not match the graph '{modelPath}': {what}";
        string Format(string pattern, int layer) => string.Format(CultureInfo.InvariantCulture, pattern, layer);

        NodeMetadata Input(string name, string field)
            => inputs.TryGetValue(name, out var meta) ? meta
                : throw new InvalidDataException(Fail($"{field} names input '{name}', which the graph does not have (graph inputs: {List(inputs.Keys)})."));
        NodeMetadata Output(string name, string field)
            => outputs.TryGetValue(name, out var meta) ? meta
                : throw new InvalidDataException(Fail($"{field} names output '{name}', which the graph does not have (graph outputs: {List(outputs.Keys)})."));
        void Type(NodeMetadata meta, string name, TensorElementType expected, string why)
        {
            if (!meta.IsTensor || meta.ElementDataType != expected)
                throw new InvalidDataException(Fail($"'{name}' is {(meta.IsTensor ? meta.ElementDataType.ToString() : meta.OnnxValueType.ToString())}, but {why} needs {expected}."));
        }
        void Dim(NodeMetadata meta, string name, int axis, int expected, string field)
        {
            var dims = meta.Dimensions;
            if (axis >= dims.Length)
                throw new InvalidDataException(Fail($"'{name}' has rank {dims.Length}, expected at least {axis + 1}."));
            if (dims[axis] > 0 && dims[axis] != expected)
                throw new InvalidDataException(Fail($"{field} is {expected}, but dimension {axis} of '{name}' is {dims[axis]}."));
        }

        var ids = Input(m.Inputs.InputIds, "inputs.inputIds");
        Type(ids, m.Inputs.InputIds, TensorElementType.Int64, "the runtime");
        Type(Input(m.Inputs.PositionIds, "inputs.positionIds"), m.Inputs.PositionIds, TensorElementType.Int64, "the runtime");
        Type(Input(m.Inputs.AttentionMask, "inputs.attentionMask"), m.Inputs.AttentionMask, TensorElementType.Float, "the 4D additive mask");

        var kvType = m.Dtype == ModelDType.Float16 ? TensorElementType.Float16 : TensorElementType.Float;
        var dtype = $"dtype {m.Dtype}";
        for (var layer = 0; layer < m.NumLayers; layer++)
        {
            foreach (var (pattern, field, isInput) in new[]
            {
                (m.Inputs.PastKey, "inputs.pastKey", true), (m.Inputs.PastValue, "inputs.pastValue", true),
                (m.Outputs.PresentKey, "outputs.presentKey", false), (m.Outputs.PresentValue, "outputs.presentValue", false),
            })
            {
                var name = Format(pattern, layer);
                var meta = isInput
                    ? inputs.TryGetValue(name, out var i) ? i : throw new InvalidDataException(Fail($"numLayers is {m.NumLayers}, but the graph has no input '{name}' for layer {layer}."))
                    : outputs.TryGetValue(name, out var o) ? o : throw new InvalidDataException(Fail($"numLayers is {m.NumLayers}, but the graph has no output '{name}' for layer {layer}."));
                Type(meta, name, kvType, dtype);
                Dim(meta, name, 1, m.NumKvHeads, "numKvHeads");
                Dim(meta, name, 3, m.HeadSize, "headSize");
            }
        }
        if (inputs.ContainsKey(Format(m.Inputs.PastKey, m.NumLayers)))
            throw new InvalidDataException(Fail($"numLayers is {m.NumLayers}, but the graph also has '{Format(m.Inputs.PastKey, m.NumLayers)}' (more layers)."));

        var logits = Output(m.Outputs.Logits, "outputs.logits");
        Type(logits, m.Outputs.Logits, TensorElementType.Float, "the runtime (float32 logits)");
        if (logits.Dimensions.Length > 0 && logits.Dimensions[^1] > 0 && logits.Dimensions[^1] != m.VocabSize)
            throw new InvalidDataException(Fail($"vocabSize is {m.VocabSize}, but the logits' last dimension is {logits.Dimensions[^1]}."));

        // Every graph input must be one the runtime feeds.
        var fed = new HashSet<string>(StringComparer.Ordinal) { m.Inputs.InputIds, m.Inputs.PositionIds, m.Inputs.AttentionMask };
        for (var layer = 0; layer < m.NumLayers; layer++)
        {
            fed.Add(Format(m.Inputs.PastKey, layer));
            fed.Add(Format(m.Inputs.PastValue, layer));
        }
        foreach (var name in inputs.Keys)
            if (!fed.Contains(name))
                throw new InvalidDataException(Fail($"the graph needs input '{name}', which the manifest does not name."));

        if (OnnxInitializerShapes.TryFirstDim(modelPath, CosTableName) is long positions && positions != m.MaxPositions)
            throw new InvalidDataException(Fail($"maxPositions is {m.MaxPositions}, but the rotary tables ('{CosTableName}') hold {positions} positions."));
    }

    private static string List(IEnumerable<string> names)
    {
        var list = names.Take(8).ToList();
        return string.Join(", ", list) + (names.Skip(8).Any() ? ", ..." : "");
    }
}

/// <summary>
/// Reads one initializer's first dimension from an ONNX model file by walking the protobuf wire format and
/// seeking over every other field (weights are skipped, not read). Hand-written: the runtime references no
/// protobuf library, and the walk needs four field numbers (ModelProto.graph = 7, GraphProto.initializer = 5,
/// TensorProto.dims = 1, TensorProto.name = 8).
/// </summary>
internal static class OnnxInitializerShapes
{
    /// <summary>The first dim of initializer <paramref name="name"/>, or null when it is absent or the file cannot be walked.</summary>
    public static long? TryFirstDim(string modelPath, string name)
    {
        try
        {
            using var stream = new FileStream(modelPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            var reader = new Wire(stream);
            var end = stream.Length;
            while (stream.Position < end)
            {
                var (field, type) = reader.Tag();
                if (field == 7 && type == 2)
                {
                    var graphEnd = reader.LengthEnd(end);
                    while (stream.Position < graphEnd)
                    {
                        var (gField, gType) = reader.Tag();
                        if (gField == 5 && gType == 2)
                        {
                            var tensorEnd = reader.LengthEnd(graphEnd);
                            if (ReadTensor(reader, stream, tensorEnd, name) is long dim) return dim;
                            stream.Position = tensorEnd;
                        }
                        else reader.Skip(gType, graphEnd);
                    }
                    return null;
                }
                reader.Skip(type, end);
            }
            return null;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long? ReadTensor(Wire reader, Stream stream, long end, string wanted)
    {
        long? first = null;
        string? name = null;
        while (stream.Position < end)
        {
            var (field, type) = reader.Tag();
            if (field == 1 && type == 0) first ??= (long)reader.Varint();
            else if (field == 1 && type == 2)
            {
                var packedEnd = reader.LengthEnd(end);
                if (stream.Position < packedEnd) first ??= (long)reader.Varint();
                stream.Position = packedEnd;
            }
            else if (field == 8 && type == 2)
            {
                var length = reader.LengthEnd(end) - stream.Position;
                if (length != wanted.Length) return null;
                var bytes = new byte[length];
                stream.ReadExactly(bytes);
                name = System.Text.Encoding.UTF8.GetString(bytes);
                if (name != wanted) return null;
            }
            else reader.Skip(type, end);
        }
        return name == wanted ? first : null;
    }

    private sealed class Wire(Stream stream)
    {
        public ulong Varint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = stream.ReadByte();
                if (b < 0) throw new InvalidDataException("truncated varint");
                value |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return value;
            }
            throw new InvalidDataException("varint too long");
        }

        public (int Field, int Type) Tag()
        {
            var tag = Varint();
            return ((int)(tag >> 3), (int)(tag & 7));
        }

        public long LengthEnd(long limit)
        {
            var length = Varint();
            var end = stream.Position + (long)Math.Min(length, (ulong)long.MaxValue / 2);
            if (length > (ulong)limit || end > limit) throw new InvalidDataException("length past the end");
            return end;
        }

        public void Skip(int type, long limit)
        {
            switch (type)
            {
                case 0: Varint(); break;
                case 1: stream.Position += 8; break;
                case 2: stream.Position = LengthEnd(limit); break;
                case 5: stream.Position += 4; break;
                default: throw new InvalidDataException($"wire type {type}");
            }
        }
    }
}
