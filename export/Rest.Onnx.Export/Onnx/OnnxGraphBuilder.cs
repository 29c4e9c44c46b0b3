using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Rest.Onnx.Export.Onnx;

/// <summary>An ONNX node attribute.</summary>
internal readonly record struct OnnxAttribute(string Name, AttributeProto Proto)
{
    public static OnnxAttribute Int(string name, long value)
        => new(name, new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value });

    public static OnnxAttribute Float(string name, float value)
        => new(name, new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value });

    public static OnnxAttribute Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.Add(values);
        return new(name, a);
    }
}

/// <summary>
/// Small helper over OnnxSharp's generated protobuf types: declares inputs/outputs with symbolic dims,
/// adds nodes with unique output names, and stores initializers inline or in an <see cref="ExternalDataFile"/>.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private readonly ExternalDataFile? _external;
    private readonly Dictionary<string, int> _nameCounts = new(StringComparer.Ordinal);

    public OnnxGraphBuilder(string name, ExternalDataFile? external)
    {
        Graph = new GraphProto { Name = name };
        _external = external;
    }

    public GraphProto Graph { get; }

    /// <summary>Bytes stored in initializers so far (inline and external).</summary>
    public long InitializerBytes { get; private set; }

    /// <summary>Dims are <c>long</c> (fixed) or <c>string</c> (symbolic).</summary>
    public string Input(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        Graph.Input.Add(ValueInfo(name, type, dims));
        return name;
    }

    public void Output(string name, TensorProto.Types.DataType type, params object[] dims)
        => Graph.Output.Add(ValueInfo(name, type, dims));

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            var dim = new TensorShapeProto.Types.Dimension();
            if (d is string s) dim.DimParam = s;
            else dim.DimValue = Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture);
            shape.Dim.Add(dim);
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    /// <summary>Adds a node with one output and returns that output's name.</summary>
    public string Node(string opType, string prefix, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes)
        => Node(opType, prefix, inputs, 1, attributes)[0];

    /// <summary>ONNX Runtime's contrib-op domain (GroupQueryAttention, MatMulNBits).</summary>
    public const string MicrosoftDomain = "com.microsoft";

    /// <summary>Whether a node of <see cref="MicrosoftDomain"/> was added (the model then imports that opset).</summary>
    public bool UsesMicrosoftDomain { get; private set; }

    /// <summary>Adds a com.microsoft node with the given outputs (empty input or output name = optional one left out).</summary>
    public void MicrosoftNode(string opType, string prefix, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, params OnnxAttribute[] attributes)
    {
        NodeWithOutputs(opType, prefix, inputs, outputs, attributes);
        Graph.Node[^1].Domain = MicrosoftDomain;
        UsesMicrosoftDomain = true;
    }

    /// <summary>Adds a com.microsoft node with one generated output and returns that output's name.</summary>
    public string MicrosoftNode(string opType, string prefix, IReadOnlyList<string> inputs, params OnnxAttribute[] attributes)
    {
        var output = Node(opType, prefix, inputs, 1, attributes)[0];
        Graph.Node[^1].Domain = MicrosoftDomain;
        UsesMicrosoftDomain = true;
        return output;
    }

    /// <summary>Adds a node with the given outputs (names chosen by caller, empty = unused optional output).</summary>
    public void NodeWithOutputs(string opType, string prefix, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, params OnnxAttribute[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = Unique(prefix + "/" + opType) };
        node.Input.Add(inputs);
        node.Output.Add(outputs);
        foreach (var a in attributes) node.Attribute.Add(a.Proto);
        Graph.Node.Add(node);
    }

    /// <summary>Adds a node with <paramref name="outputCount"/> generated outputs.</summary>
    public string[] Node(string opType, string prefix, IReadOnlyList<string> inputs, int outputCount, params OnnxAttribute[] attributes)
    {
        var name = Unique(prefix + "/" + opType);
        var outputs = new string[outputCount];
        for (int i = 0; i < outputCount; i++) outputs[i] = outputCount == 1 ? name + "_output" : name + "_output_" + i;
        NodeWithOutputs(opType, prefix, inputs, outputs, attributes);
        return outputs;
    }

    private string Unique(string name)
    {
        if (!_nameCounts.TryGetValue(name, out var n)) { _nameCounts[name] = 1; return name; }
        _nameCounts[name] = n + 1;
        return name + "_" + n;
    }

    /// <summary>A float initializer stored as <paramref name="type"/> (Float or Float16).</summary>
    public string Initializer(string name, ReadOnlySpan<float> values, TensorProto.Types.DataType type, params long[] dims)
    {
        if (type == TensorProto.Types.DataType.Float) return Raw(name, type, dims, MemoryMarshal.AsBytes(values));
        if (type != TensorProto.Types.DataType.Float16) throw new ArgumentOutOfRangeException(nameof(type), type, "Float or Float16 only.");
        var half = GC.AllocateUninitializedArray<Half>(values.Length);
        for (int i = 0; i < values.Length; i++) half[i] = (Half)values[i];
        return Raw(name, type, dims, MemoryMarshal.AsBytes(half.AsSpan()));
    }

    /// <summary>A uint8 initializer (packed 4-bit weights), inline or external like the float ones.</summary>
    public string ByteInitializer(string name, ReadOnlySpan<byte> values, params long[] dims)
        => Raw(name, TensorProto.Types.DataType.Uint8, dims, values);

    /// <summary>A small int64 constant, always inline.</summary>
    public string Int64Constant(string name, params long[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(values.Length);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        Graph.Initializer.Add(t);
        return name;
    }

    /// <summary>A small int32 constant, always inline.</summary>
    public string Int32Constant(string name, params int[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int32 };
        t.Dims.Add(values.Length);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        Graph.Initializer.Add(t);
        return name;
    }

    /// <summary>A scalar constant of a float type, always inline.</summary>
    public string ScalarConstant(string name, float value, TensorProto.Types.DataType type)
    {
        var t = new TensorProto { Name = name, DataType = (int)type };
        t.RawData = type == TensorProto.Types.DataType.Float16
            ? ByteString.CopyFrom(BitConverter.GetBytes(BitConverter.HalfToUInt16Bits((Half)value)))
            : ByteString.CopyFrom(BitConverter.GetBytes(value));
        Graph.Initializer.Add(t);
        return name;
    }

    private string Raw(string name, TensorProto.Types.DataType type, long[] dims, ReadOnlySpan<byte> bytes)
    {
        var t = new TensorProto { Name = name, DataType = (int)type };
        t.Dims.Add(dims);
        if (_external is not null) _external.Append(t, bytes);
        else t.RawData = ByteString.CopyFrom(bytes);
        InitializerBytes += bytes.Length;
        Graph.Initializer.Add(t);
        return name;
    }
}
