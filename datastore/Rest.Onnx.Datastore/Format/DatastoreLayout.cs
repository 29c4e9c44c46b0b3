using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Rest.Onnx.Datastore.Format;

/// <summary>
/// Byte layout of a datastore file (see docs/datastore-format.md). All integers little-endian.
/// <code>
/// [0, 128)             fixed header, checksum over bytes [0, 120) at 120
/// [128, ...)           per shard: token array, then int32 suffix array, each 64-byte aligned
/// [metadata offset, …) shard table (64 bytes per shard), tokenizer fingerprint, build parameters
/// </code>
/// </summary>
internal static class DatastoreLayout
{
    public static ReadOnlySpan<byte> Magic => "RESTDATA"u8;
    public const uint Version = 1;
    public const int HeaderSize = 128;
    public const int HeaderChecksumOffset = 120;
    public const int ShardEntrySize = 64;
    public const int Alignment = 64;
    /// <summary>The suffix array is int32: a shard holds at most this many tokens.</summary>
    public const long MaxShardTokens = int.MaxValue;
    public const int NoSeparator = -1;

    public static long Align(long offset) => (offset + Alignment - 1) & ~(long)(Alignment - 1);

    /// <summary>2 bytes per token when every id fits below 65536, else 4.</summary>
    public static int TokenWidthFor(int vocabularySize) => vocabularySize <= 65536 ? 2 : 4;
}

/// <summary>The fixed 128-byte header.</summary>
internal readonly record struct FixedHeader(
    uint Version, int VocabularySize, int TokenWidth, int Separator, int ShardCount,
    long TokenCount, long MaxShardTokens, long MetadataOffset, long MetadataLength, ulong MetadataChecksum)
{
    public void Write(Span<byte> b)
    {
        b[..DatastoreLayout.HeaderSize].Clear();
        DatastoreLayout.Magic.CopyTo(b);
        BinaryPrimitives.WriteUInt32LittleEndian(b[8..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(b[12..], DatastoreLayout.HeaderSize);
        BinaryPrimitives.WriteInt32LittleEndian(b[16..], VocabularySize);
        BinaryPrimitives.WriteInt32LittleEndian(b[20..], TokenWidth);
        BinaryPrimitives.WriteInt32LittleEndian(b[24..], Separator);
        BinaryPrimitives.WriteInt32LittleEndian(b[28..], ShardCount);
        BinaryPrimitives.WriteInt64LittleEndian(b[32..], TokenCount);
        BinaryPrimitives.WriteInt64LittleEndian(b[40..], MaxShardTokens);
        BinaryPrimitives.WriteInt64LittleEndian(b[48..], MetadataOffset);
        BinaryPrimitives.WriteInt64LittleEndian(b[56..], MetadataLength);
        BinaryPrimitives.WriteUInt64LittleEndian(b[64..], MetadataChecksum);
        BinaryPrimitives.WriteUInt64LittleEndian(b[DatastoreLayout.HeaderChecksumOffset..],
            XxHash3.HashToUInt64(b[..DatastoreLayout.HeaderChecksumOffset]));
    }

    /// <summary>Parses and checks the fixed header; throws naming the first problem.</summary>
    public static FixedHeader Read(ReadOnlySpan<byte> b, long fileLength, string path)
    {
        if (fileLength < DatastoreLayout.HeaderSize)
            throw new DatastoreFormatException(path, $"file is {fileLength} bytes, shorter than the {DatastoreLayout.HeaderSize}-byte header (truncated or not a datastore).");
        if (!b[..8].SequenceEqual(DatastoreLayout.Magic))
            throw new DatastoreFormatException(path, $"wrong magic '{Printable(b[..8])}', expected 'RESTDATA' (not a Rest.Onnx datastore).");
        var version = BinaryPrimitives.ReadUInt32LittleEndian(b[8..]);
        if (version != DatastoreLayout.Version)
            throw new DatastoreFormatException(path, $"format version {version} is not supported (this reader reads version {DatastoreLayout.Version}).");
        var headerSize = BinaryPrimitives.ReadUInt32LittleEndian(b[12..]);
        if (headerSize != DatastoreLayout.HeaderSize)
            throw new DatastoreFormatException(path, $"header size {headerSize}, expected {DatastoreLayout.HeaderSize}.");
        var stored = BinaryPrimitives.ReadUInt64LittleEndian(b[DatastoreLayout.HeaderChecksumOffset..]);
        var actual = XxHash3.HashToUInt64(b[..DatastoreLayout.HeaderChecksumOffset]);
        if (stored != actual)
            throw new DatastoreFormatException(path, $"header checksum mismatch (stored {stored:x16}, computed {actual:x16}): the header is corrupt.");

        var h = new FixedHeader(
            version,
            BinaryPrimitives.ReadInt32LittleEndian(b[16..]),
            BinaryPrimitives.ReadInt32LittleEndian(b[20..]),
            BinaryPrimitives.ReadInt32LittleEndian(b[24..]),
            BinaryPrimitives.ReadInt32LittleEndian(b[28..]),
            BinaryPrimitives.ReadInt64LittleEndian(b[32..]),
            BinaryPrimitives.ReadInt64LittleEndian(b[40..]),
            BinaryPrimitives.ReadInt64LittleEndian(b[48..]),
            BinaryPrimitives.ReadInt64LittleEndian(b[56..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[64..]));
        if (h.VocabularySize <= 0)
            throw new DatastoreFormatException(path, $"vocabulary size {h.VocabularySize} must be positive.");
        if (h.TokenWidth != DatastoreLayout.TokenWidthFor(h.VocabularySize))
            throw new DatastoreFormatException(path, $"token width {h.TokenWidth} bytes does not fit vocabulary size {h.VocabularySize} (expected {DatastoreLayout.TokenWidthFor(h.VocabularySize)}).");
        if (h.Separator < DatastoreLayout.NoSeparator || h.Separator >= h.VocabularySize)
            throw new DatastoreFormatException(path, $"separator token {h.Separator} is outside the vocabulary [0, {h.VocabularySize}).");
        if (h.ShardCount <= 0)
            throw new DatastoreFormatException(path, $"shard count {h.ShardCount} must be positive.");
        if (h.TokenCount <= 0)
            throw new DatastoreFormatException(path, $"token count {h.TokenCount} must be positive.");
        // Overflow-safe: every number here comes from the file, so no sum is formed before its parts are bounded.
        if (h.MetadataOffset < DatastoreLayout.HeaderSize || h.MetadataOffset > fileLength
            || h.MetadataLength < 0 || h.MetadataLength != fileLength - h.MetadataOffset)
            throw new DatastoreFormatException(path,
                $"file is {fileLength} bytes but the header places the metadata at offset {h.MetadataOffset} with length {h.MetadataLength}: the file is truncated or has trailing bytes.");
        if (h.MetadataLength < (long)h.ShardCount * DatastoreLayout.ShardEntrySize + 8)
            throw new DatastoreFormatException(path,
                $"metadata is {h.MetadataLength} bytes, too short for a shard table of {h.ShardCount} shards.");
        if (h.MetadataLength > int.MaxValue)
            throw new DatastoreFormatException(path, $"metadata length {h.MetadataLength} exceeds the 2 GiB limit.");
        return h;
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder();
        foreach (var c in bytes) sb.Append(c is >= 32 and < 127 ? (char)c : '?');
        return sb.ToString();
    }
}

/// <summary>One row of the shard table.</summary>
internal readonly record struct ShardEntry(
    long TokenCount, long FirstToken, long TokensOffset, ulong TokensChecksum,
    long SuffixArrayOffset, ulong SuffixArrayChecksum, long DocumentCount)
{
    public void Write(Span<byte> b)
    {
        b[..DatastoreLayout.ShardEntrySize].Clear();
        BinaryPrimitives.WriteInt64LittleEndian(b, TokenCount);
        BinaryPrimitives.WriteInt64LittleEndian(b[8..], FirstToken);
        BinaryPrimitives.WriteInt64LittleEndian(b[16..], TokensOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(b[24..], TokensChecksum);
        BinaryPrimitives.WriteInt64LittleEndian(b[32..], SuffixArrayOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(b[40..], SuffixArrayChecksum);
        BinaryPrimitives.WriteInt64LittleEndian(b[48..], DocumentCount);
    }

    public static ShardEntry Read(ReadOnlySpan<byte> b) => new(
        BinaryPrimitives.ReadInt64LittleEndian(b),
        BinaryPrimitives.ReadInt64LittleEndian(b[8..]),
        BinaryPrimitives.ReadInt64LittleEndian(b[16..]),
        BinaryPrimitives.ReadUInt64LittleEndian(b[24..]),
        BinaryPrimitives.ReadInt64LittleEndian(b[32..]),
        BinaryPrimitives.ReadUInt64LittleEndian(b[40..]),
        BinaryPrimitives.ReadInt64LittleEndian(b[48..]));
}
