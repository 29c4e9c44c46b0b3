using System.Runtime.InteropServices;
using Tokenizers.DotNet;

namespace Rest.Onnx.Tokenization.HuggingFace;

/// <summary>
/// Hugging Face tokenizers' Rust core (through Tokenizers.DotNet), loaded from a rewritten copy of a
/// tokenizer.json (see <see cref="TokenizerJson.Rewrite"/>). The Rust tokenizer is exact by
/// definition; this class only turns its failures into the project's errors. Thread-safe: the native
/// library keeps one read-only tokenizer per session. Its memory is freed by Tokenizers.DotNet's
/// finalizer when this object is collected.
/// </summary>
internal sealed class NativeHfTokenizer
{
    /// <summary>The NuGet package that carries the native library for this process's platform.</summary>
    public static string NativePackage => $"Tokenizers.DotNet.runtime.{RuntimeInformation.RuntimeIdentifier}";

    private readonly Tokenizer _tokenizer;
    private readonly string _path;

    private NativeHfTokenizer(Tokenizer tokenizer, string path)
    {
        _tokenizer = tokenizer;
        _path = path;
    }

    /// <summary>Loads the rewritten JSON; <paramref name="sourcePath"/> names the original file in errors.</summary>
    /// <exception cref="PlatformNotSupportedException">The native library for this platform is not installed.</exception>
    /// <exception cref="InvalidDataException">HF tokenizers rejects the file.</exception>
    public static NativeHfTokenizer Load(byte[] json, string sourcePath)
    {
        // Tokenizers.DotNet loads from a path only, so the rewritten copy goes through a private temporary file.
        var temp = Path.Combine(Path.GetTempPath(), $"rest-onnx-tokenizer-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllBytes(temp, json);
            return new NativeHfTokenizer(new Tokenizer(temp), sourcePath);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException
                                      || (e is TypeInitializationException && e.InnerException is DllNotFoundException))
        {
            throw MissingNative(sourcePath, e);
        }
        catch (TokenizerException e)
        {
            throw new InvalidDataException($"'{sourcePath}': Hugging Face tokenizers cannot load it: {e.Message}", e);
        }
        finally
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    public static PlatformNotSupportedException MissingNative(string sourcePath, Exception inner) => new(
        $"'{sourcePath}' needs Hugging Face tokenizers' native library, which is not available for {RuntimeInformation.RuntimeIdentifier}: " +
        $"add the NuGet package {NativePackage} (version 1.4.1) to the application (this build ships only Tokenizers.DotNet.runtime.linux-x64), " +
        "or use the model's SentencePiece tokenizer.model where it has one.", inner);

    /// <summary>Encodes <paramref name="text"/> (valid UTF-16) and appends the ids.</summary>
    /// <exception cref="ArgumentException">HF tokenizers rejected the text.</exception>
    public void Encode(string text, List<int> ids)
    {
        uint[] result;
        try { result = _tokenizer.Encode(text); }
        catch (TokenizerException e) { throw new ArgumentException($"Tokenizer '{_path}' cannot encode the text: {e.Message}", nameof(text), e); }
        ids.EnsureCapacity(ids.Count + result.Length);
        foreach (var id in result) ids.Add((int)id);
    }

    /// <summary>Decodes ids (all already checked to be in range).</summary>
    public string Decode(uint[] ids)
    {
        if (ids.Length == 0) return string.Empty;
        try { return _tokenizer.Decode(ids); }
        catch (TokenizerException e) { throw new ArgumentException($"Tokenizer '{_path}' cannot decode the ids: {e.Message}", nameof(ids), e); }
    }
}
