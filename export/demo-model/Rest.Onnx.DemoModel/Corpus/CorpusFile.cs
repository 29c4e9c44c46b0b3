namespace Rest.Onnx.DemoModel.Corpus;

/// <summary>One source file of the demo corpus.</summary>
/// <param name="RelativePath">Path relative to the corpus root, '/'-separated; the split hashes this.</param>
/// <param name="FullPath">Absolute path on this machine.</param>
/// <param name="Length">Size in bytes when the corpus was scanned.</param>
/// <param name="IsHeldOut">True for validation/dev-prompt files, which never go into training or the datastore.</param>
public sealed record CorpusFile(string RelativePath, string FullPath, long Length, bool IsHeldOut)
{
    /// <summary>Reads the file as UTF-8 (a BOM is dropped; invalid bytes become U+FFFD).</summary>
    public string ReadText() => File.ReadAllText(FullPath, System.Text.Encoding.UTF8);
}
