namespace Rest.Onnx.Export.Tool;

internal static partial class Verbs
{
    public static int Convert(Arguments a)
    {
        a.RejectUnused();
        Console.Error.WriteLine("rest-export convert: not implemented yet");
        return 2;
    }
}
