using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Rest.Onnx.Datastore.Building;

/// <summary>Tells binary (a NUL byte) and invalid UTF-8 input apart from text, so a build can count and skip it.</summary>
internal static class TextCheck
{
    /// <summary>The problem with <paramref name="bytes"/> as UTF-8 text, or null when it is clean text.</summary>
    public static string? Classify(ReadOnlySpan<byte> bytes)
    {
        // UTF-16/32 text with a byte-order mark is text (File.ReadAllText decodes it); it is not checked further.
        if (HasWideByteOrderMark(bytes)) return null;
        var nul = bytes.IndexOf((byte)0);
        if (nul >= 0) return $"looks binary (a NUL byte at offset {nul})";
        var bad = Utf8.IsValid(bytes) ? -1 : FirstInvalid(bytes);
        return bad >= 0 ? $"is not valid UTF-8 (first bad byte at offset {bad})" : null;
    }

    /// <summary>As <see cref="Classify(ReadOnlySpan{byte})"/> for a file, read in chunks (line formats can be large).</summary>
    /// <exception cref="DatastoreBuildException">The file cannot be read.</exception>
    public static string? Classify(string file)
    {
        const int Chunk = 1 << 20;
        var buffer = ArrayPool<byte>.Shared.Rent(Chunk + 4);
        var chars = ArrayPool<char>.Shared.Rent(Chunk + 4);
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            long offset = 0;
            var carried = 0;
            while (true)
            {
                var read = stream.Read(buffer, carried, Chunk);
                var final = read == 0;
                var span = buffer.AsSpan(0, carried + read);
                if (offset == 0 && HasWideByteOrderMark(span)) return null;
                var nul = span[carried..].IndexOf((byte)0);
                if (nul >= 0) return $"looks binary (a NUL byte at offset {offset + carried + nul})";
                var status = Utf8.ToUtf16(span, chars, out var consumed, out _, replaceInvalidSequences: false, isFinalBlock: final);
                if (status == OperationStatus.InvalidData) return $"is not valid UTF-8 (first bad byte at offset {offset + consumed})";
                if (final) return null;
                // An incomplete sequence at the chunk's end is carried into the next read.
                carried = span.Length - consumed;
                span[consumed..].CopyTo(buffer);
                offset += consumed;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatastoreBuildException($"Cannot read input '{file}': {e.Message}", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    /// <summary>Decodes as <see cref="File.ReadAllText(string)"/> does: byte-order marks are honoured, bad UTF-8 sequences become U+FFFD.</summary>
    public static string Decode(byte[] bytes)
    {
        using var reader = new StreamReader(new MemoryStream(bytes, writable: false), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    private static bool HasWideByteOrderMark(ReadOnlySpan<byte> bytes)
        => bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]);

    private static int FirstInvalid(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        return Utf8.ToUtf16(bytes, chars, out var consumed, out _, replaceInvalidSequences: false) == OperationStatus.InvalidData ? consumed : -1;
    }
}
