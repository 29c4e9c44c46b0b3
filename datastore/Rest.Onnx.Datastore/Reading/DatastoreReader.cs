using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.MemoryMappedFiles;
using System.Text;
using Rest.Onnx.Datastore.Format;

namespace Rest.Onnx.Datastore.Reading;

/// <summary>
/// A datastore file opened by memory mapping: opening reads only the header and shard table, so its cost
/// and resident memory do not grow with the file; pages are loaded by the OS as queries touch them.
/// Thread-safe for any number of concurrent readers; dispose only when no query is running.
/// Spans and shards obtained from it are valid until it is disposed.
/// </summary>
/// <remarks>
/// Trust model (docs/datastore-format.md, "Trust model"): open checks the header, the shard table's checksum and
/// every section's bounds against the file length (overflow-safe), and, when asked, every section checksum;
/// <see cref="Verify"/> checks the checksums and every id against the vocabulary. Reads bounds-check each
/// suffix-array value, so a corrupt file can cost draft quality but never an out-of-range access. Drafted ids
/// are not checked here; the runtime drops ids outside the model's vocabulary before a forward pass.
/// The file must not be truncated while it is mapped (the OS then faults the process, which .NET cannot
/// catch): the builder never rewrites a file in place (it renames a new file over it), so replace a store the
/// same way, or copy it, rather than truncating it.
/// </remarks>
public sealed unsafe class DatastoreReader : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly DatastoreShard[] _shards;
    private readonly ShardEntry[] _entries;
    private bool _disposed;

    private DatastoreReader(string path, long length, MemoryMappedFile file, MemoryMappedViewAccessor view, byte* basePointer)
    {
        Path = path;
        FileLength = length;
        _file = file;
        _view = view;
        _base = basePointer;
        try
        {
            var header = FixedHeader.Read(new ReadOnlySpan<byte>(_base, DatastoreLayout.HeaderSize), length, path);
            VocabularySize = header.VocabularySize;
            TokenWidth = header.TokenWidth;
            Separator = header.Separator;
            TokenCount = header.TokenCount;
            MaxShardTokens = header.MaxShardTokens;
            FormatVersion = (int)header.Version;

            var metadata = new ReadOnlySpan<byte>(_base + header.MetadataOffset, (int)header.MetadataLength);
            var checksum = XxHash3.HashToUInt64(metadata);
            if (checksum != header.MetadataChecksum)
                throw new DatastoreFormatException(path, $"shard table checksum mismatch (stored {header.MetadataChecksum:x16}, computed {checksum:x16}): the file is corrupt.");

            _entries = new ShardEntry[header.ShardCount];
            _shards = new DatastoreShard[header.ShardCount];
            long expectedFirst = 0;
            for (var i = 0; i < header.ShardCount; i++)
            {
                var e = ShardEntry.Read(metadata[(i * DatastoreLayout.ShardEntrySize)..]);
                CheckShard(i, e, expectedFirst, header);
                _entries[i] = e;
                _shards[i] = new DatastoreShard(i, _base + e.TokensOffset, (int*)(_base + e.SuffixArrayOffset),
                    (int)e.TokenCount, TokenWidth, e.FirstToken, e.DocumentCount);
                expectedFirst += e.TokenCount;
            }
            if (expectedFirst != TokenCount)
                throw new DatastoreFormatException(path, $"shards hold {expectedFirst} tokens but the header says {TokenCount}.");

            var at = header.ShardCount * DatastoreLayout.ShardEntrySize;
            TokenizerFingerprint = ReadString(metadata, ref at, "tokenizer fingerprint");
            BuildParameters = ReadString(metadata, ref at, "build parameters");
        }
        catch
        {
            Release();
            throw;
        }
        Shards = _shards;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>File size in bytes.</summary>
    public long FileLength { get; }

    /// <summary>Format version of the file.</summary>
    public int FormatVersion { get; }

    /// <summary>Number of token ids; every stored id is below it.</summary>
    public int VocabularySize { get; }

    /// <summary>Bytes per stored token: 2 or 4.</summary>
    public int TokenWidth { get; }

    /// <summary>Document separator token, or -1 when documents were joined without one.</summary>
    public int Separator { get; }

    /// <summary>Tokens in all shards (separators included).</summary>
    public long TokenCount { get; }

    /// <summary>The shard size limit the file was built with.</summary>
    public long MaxShardTokens { get; }

    /// <summary>Fingerprint of the tokenizer that produced the ids; empty when none was recorded.</summary>
    public string TokenizerFingerprint { get; }

    /// <summary>Build parameters as JSON text.</summary>
    public string BuildParameters { get; }

    /// <summary>The shards, in corpus order.</summary>
    public IReadOnlyList<DatastoreShard> Shards { get; }

    /// <summary>
    /// Opens a datastore. Checks the header, shard table and section bounds (cheap); call <see cref="Verify"/>
    /// to check every section checksum.
    /// </summary>
    /// <param name="path">The datastore file.</param>
    /// <param name="expectedTokenizerFingerprint">When given, the file's tokenizer fingerprint must equal it.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DatastoreFormatException">The file is not a valid datastore (magic, version, truncation, corrupt header), or the path is a folder or not a regular file.</exception>
    /// <exception cref="TokenizerMismatchException">The fingerprint differs from <paramref name="expectedTokenizerFingerprint"/>.</exception>
    public static DatastoreReader Open(string path, string? expectedTokenizerFingerprint = null)
        => Open(path, expectedTokenizerFingerprint, verifyChecksums: false);

    /// <summary>
    /// Opens a datastore and, when <paramref name="verifyChecksums"/> is set, runs <see cref="Verify"/> before
    /// returning (reads the whole file: about 0.2 s per 100M tokens with a warm page cache, see
    /// docs/datastore-format.md). Without it, open costs the same for any file size.
    /// </summary>
    /// <param name="path">The datastore file.</param>
    /// <param name="expectedTokenizerFingerprint">When given, the file's tokenizer fingerprint must equal it.</param>
    /// <param name="verifyChecksums">Check every section checksum and every id against the vocabulary.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DatastoreFormatException">The file is not a valid datastore, or (with <paramref name="verifyChecksums"/>) a section is corrupt.</exception>
    /// <exception cref="TokenizerMismatchException">The fingerprint differs from <paramref name="expectedTokenizerFingerprint"/>.</exception>
    public static DatastoreReader Open(string path, string? expectedTokenizerFingerprint, bool verifyChecksums)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        var kind = FileKinds.Of(full);
        if (kind == FileKind.Directory)
            throw new DatastoreFormatException(full, "this is a folder, not a datastore file; give the datastore file inside it.");
        if (kind == FileKind.Missing || !File.Exists(full)) throw new FileNotFoundException($"Datastore file '{full}' does not exist.", full);
        // Opening a FIFO blocks until a writer appears and a device is no datastore: only regular files.
        if (kind != FileKind.Regular)
            throw new DatastoreFormatException(full, $"this is {FileKinds.Describe(kind)}, not a regular datastore file.");
        using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
        var length = stream.Length;
        if (length < DatastoreLayout.HeaderSize)
            throw new DatastoreFormatException(full, $"file is {length} bytes, shorter than the {DatastoreLayout.HeaderSize}-byte header (truncated or not a datastore).");
        var file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            var reader = new DatastoreReader(full, length, file, view, pointer + view.PointerOffset);
            try
            {
                if (expectedTokenizerFingerprint is not null) reader.EnsureTokenizer(expectedTokenizerFingerprint);
                if (verifyChecksums) reader.Verify();
            }
            catch { reader.Dispose(); throw; }
            return reader;
        }
        catch
        {
            // The constructor releases the pointer on its own failures; here only the mapping remains.
            view?.Dispose();
            file.Dispose();
            throw;
        }
    }

    /// <summary>Checks that the datastore was built with the tokenizer whose fingerprint is given.</summary>
    /// <exception cref="TokenizerMismatchException">The fingerprints differ.</exception>
    public void EnsureTokenizer(string expectedFingerprint)
    {
        ArgumentNullException.ThrowIfNull(expectedFingerprint);
        if (!string.Equals(expectedFingerprint, TokenizerFingerprint, StringComparison.Ordinal))
            throw new TokenizerMismatchException(Path, expectedFingerprint, TokenizerFingerprint);
    }

    /// <summary>
    /// Recomputes every section checksum (reads the whole file) and checks that every token id is inside the
    /// vocabulary. Thread-safe.
    /// </summary>
    /// <exception cref="DatastoreFormatException">A section's checksum differs or an id is out of range; the message names the shard and section.</exception>
    public void Verify()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        for (var i = 0; i < _entries.Length; i++)
        {
            var e = _entries[i];
            var tokenBytes = e.TokenCount * TokenWidth;
            CheckSum(i, "token array", _base + e.TokensOffset, tokenBytes, e.TokensChecksum);
            CheckSum(i, "suffix array", _base + e.SuffixArrayOffset, e.TokenCount * sizeof(int), e.SuffixArrayChecksum);
            // 16-bit ids can still exceed a vocabulary below 65,536: check both widths.
            if (TokenWidth == 4)
            {
                var tokens = (uint*)(_base + e.TokensOffset);
                for (long j = 0; j < e.TokenCount; j++)
                    if (tokens[j] >= (uint)VocabularySize)
                        throw new DatastoreFormatException(Path, $"shard {i} token {j} has id {tokens[j]}, outside the vocabulary [0, {VocabularySize}).");
            }
            else if (VocabularySize < 65536)
            {
                var tokens = (ushort*)(_base + e.TokensOffset);
                for (long j = 0; j < e.TokenCount; j++)
                    if (tokens[j] >= VocabularySize)
                        throw new DatastoreFormatException(Path, $"shard {i} token {j} has id {tokens[j]}, outside the vocabulary [0, {VocabularySize}).");
            }
        }
    }

    /// <summary>Suffix-array intervals of <paramref name="prefix"/> in every shard, written to <paramref name="ranges"/> (one per shard); returns the total occurrences.</summary>
    /// <exception cref="ArgumentException"><paramref name="ranges"/> is shorter than the shard count.</exception>
    public long FindRanges(ReadOnlySpan<int> prefix, Span<SuffixRange> ranges)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (ranges.Length < _shards.Length) throw new ArgumentException($"Need room for {_shards.Length} ranges.", nameof(ranges));
        long total = 0;
        for (var i = 0; i < _shards.Length; i++)
        {
            ranges[i] = _shards[i].FindRange(prefix);
            total += ranges[i].Count;
        }
        return total;
    }

    /// <summary>Total occurrences of <paramref name="prefix"/> over all shards.</summary>
    public long CountOccurrences(ReadOnlySpan<int> prefix)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long total = 0;
        foreach (var shard in _shards) total += shard.FindRange(prefix).Count;
        return total;
    }

    /// <summary>
    /// Copies the continuation of the suffix at <paramref name="suffixIndex"/> of shard <paramref name="shard"/>:
    /// up to <c>destination.Length</c> tokens starting <paramref name="skip"/> tokens after the suffix's start,
    /// stopping before the separator and at the shard's end. Returns the number of tokens copied.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The shard or index is out of range.</exception>
    public int ReadContinuation(int shard, int suffixIndex, int skip, Span<int> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)shard >= (uint)_shards.Length) throw new ArgumentOutOfRangeException(nameof(shard), shard, $"The datastore has {_shards.Length} shards.");
        var s = _shards[shard];
        if ((uint)suffixIndex >= (uint)s.TokenCount) throw new ArgumentOutOfRangeException(nameof(suffixIndex), suffixIndex, $"Shard {shard} has {s.TokenCount} suffixes.");
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        return s.ReadContinuation(suffixIndex, skip, destination, Separator);
    }

    /// <summary>Unmaps the file.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Release();
    }

    private void Release()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }

    private void CheckShard(int i, ShardEntry e, long expectedFirst, FixedHeader header)
    {
        if (e.TokenCount <= 0 || e.TokenCount > Math.Min(DatastoreLayout.MaxShardTokens, header.MaxShardTokens))
            throw new DatastoreFormatException(Path, $"shard {i} has {e.TokenCount} tokens, outside [1, {Math.Min(DatastoreLayout.MaxShardTokens, header.MaxShardTokens)}].");
        if (e.FirstToken != expectedFirst)
            throw new DatastoreFormatException(Path, $"shard {i} starts at token {e.FirstToken}, expected {expectedFirst}.");
        CheckSection(i, "token array", e.TokensOffset, e.TokenCount * TokenWidth, header.MetadataOffset);
        CheckSection(i, "suffix array", e.SuffixArrayOffset, e.TokenCount * sizeof(int), header.MetadataOffset);
    }

    private void CheckSection(int shard, string name, long offset, long length, long limit)
    {
        // Overflow-safe: offset is bounded before limit - offset is formed (an offset near 2^63 must not wrap).
        if (offset < DatastoreLayout.HeaderSize || offset % DatastoreLayout.Alignment != 0 || offset > limit || length > limit - offset)
            throw new DatastoreFormatException(Path,
                $"shard {shard} {name} at offset {offset} with {length} bytes is misaligned or outside the data area [{DatastoreLayout.HeaderSize}, {limit}).");
    }

    private void CheckSum(int shard, string name, byte* start, long length, ulong expected)
    {
        var hash = new XxHash3();
        const int Step = 1 << 30;
        for (long done = 0; done < length; done += Step)
            hash.Append(new ReadOnlySpan<byte>(start + done, (int)Math.Min(Step, length - done)));
        var actual = hash.GetCurrentHashAsUInt64();
        if (actual != expected)
            throw new DatastoreFormatException(Path, $"shard {shard} {name} checksum mismatch (stored {expected:x16}, computed {actual:x16}): the file is corrupt.");
    }

    private string ReadString(ReadOnlySpan<byte> metadata, ref int at, string what)
    {
        if (at + 4 > metadata.Length) throw new DatastoreFormatException(Path, $"metadata ends before the {what}.");
        var length = BinaryPrimitives.ReadInt32LittleEndian(metadata[at..]);
        if (length < 0 || length > metadata.Length - at - 4)
            throw new DatastoreFormatException(Path, $"{what} length {length} runs past the metadata ({metadata.Length - at - 4} bytes left).");
        var text = Encoding.UTF8.GetString(metadata.Slice(at + 4, length));
        at += 4 + length;
        return text;
    }
}
