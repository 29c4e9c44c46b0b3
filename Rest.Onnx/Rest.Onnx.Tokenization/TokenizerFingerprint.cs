using System.IO.Hashing;

namespace Rest.Onnx.Tokenization;

/// <summary>
/// A stable identity for a tokenizer: the XxHash3 of its model file's bytes. The exporter writes it
/// into <c>rest-model.json</c>, the datastore builder into the datastore header, and the runtime
/// refuses to pair a model with a datastore whose fingerprint differs (token ids would mean other text).
/// </summary>
public static class TokenizerFingerprint
{
    /// <summary>Prefix naming the hash, so the format can change without ambiguity.</summary>
    public const string Scheme = "xxh3-64:";

    /// <summary>File names searched, in order, when a folder is given: tokenizer.json first, as Hugging Face transformers prefers it.</summary>
    public static readonly IReadOnlyList<string> TokenizerFileNames = ["tokenizer.json", "tokenizer.model"];

    /// <summary>Fingerprint of the bytes of one tokenizer file.</summary>
    public static string OfBytes(ReadOnlySpan<byte> tokenizerFile)
        => Scheme + XxHash3.HashToUInt64(tokenizerFile).ToString("x16");

    /// <summary>Fingerprint of a tokenizer file, or of the first of <see cref="TokenizerFileNames"/> in a folder.</summary>
    /// <exception cref="FileNotFoundException">No tokenizer file is there.</exception>
    public static string OfPath(string fileOrFolder) => OfBytes(File.ReadAllBytes(ResolveFile(fileOrFolder)));

    /// <summary>Resolves a tokenizer file path from a file or a model folder.</summary>
    /// <exception cref="FileNotFoundException">No tokenizer file is there.</exception>
    public static string ResolveFile(string fileOrFolder)
    {
        if (File.Exists(fileOrFolder)) return fileOrFolder;
        if (Directory.Exists(fileOrFolder))
        {
            foreach (var name in TokenizerFileNames)
            {
                var candidate = Path.Combine(fileOrFolder, name);
                if (File.Exists(candidate)) return candidate;
            }
            throw new FileNotFoundException(
                $"No tokenizer file ({string.Join(", ", TokenizerFileNames)}) in folder '{fileOrFolder}'.");
        }
        throw new FileNotFoundException($"Tokenizer path '{fileOrFolder}' does not exist.", fileOrFolder);
    }
}
