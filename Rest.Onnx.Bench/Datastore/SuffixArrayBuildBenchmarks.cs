using BenchmarkDotNet.Attributes;
using Rest.Onnx.Datastore.SuffixArrays;

namespace Rest.Onnx.Bench.Datastore;

/// <summary>
/// SA-IS build throughput on synthetic token text (see <see cref="SyntheticTokens"/>). Divide tokens by the
/// mean for tokens/s. Meant for <c>--job short</c> (3 iterations); 100M tokens is measured by <see cref="DatastoreFigures"/>.
/// </summary>
[MemoryDiagnoser]
public class SuffixArrayBuildBenchmarks
{
    private int[] _tokens = [];
    private ushort[] _tokens16 = [];
    private int[] _suffixArray = [];

    /// <summary>Text length in tokens.</summary>
    [Params(1_000_000, 10_000_000)]
    public int Tokens { get; set; }

    /// <summary>Generates the text once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _tokens = SyntheticTokens.Generate(Tokens, streamSeed: 1);
        _tokens16 = Array.ConvertAll(_tokens, t => (ushort)t);
        _suffixArray = new int[Tokens];
    }

    /// <summary>One suffix array build over int32 text into a preallocated array.</summary>
    [Benchmark]
    public void BuildSuffixArray() => SuffixArrayBuilder.Build(_tokens, SyntheticTokens.Vocabulary, _suffixArray);

    /// <summary>The same over 16-bit text (what the writer sorts for vocabularies up to 65,536).</summary>
    [Benchmark]
    public void BuildSuffixArray16() => SuffixArrayBuilder.Build(_tokens16, SyntheticTokens.Vocabulary, _suffixArray);
}
