namespace Rest.Onnx.DemoModel;

internal static class PrepareCommand
{
    public static int Run(Dictionary<string, string> options) => throw new NotImplementedException();
}
