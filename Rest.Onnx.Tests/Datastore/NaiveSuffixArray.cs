namespace Rest.Onnx.Tests.Datastore;

/// <summary>Oracle: sorts suffixes by direct comparison (the end of the text sorts first).</summary>
internal static class NaiveSuffixArray
{
    public static int[] Build(int[] text)
    {
        var sa = Enumerable.Range(0, text.Length).ToArray();
        Array.Sort(sa, (a, b) => Compare(text, a, b));
        return sa;
    }

    private static int Compare(int[] text, int a, int b)
    {
        if (a == b) return 0;
        var x = text.AsSpan(a);
        var y = text.AsSpan(b);
        return x.SequenceCompareTo(y);
    }
}
