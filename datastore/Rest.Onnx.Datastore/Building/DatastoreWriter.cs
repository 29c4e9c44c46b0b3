using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Rest.Onnx.Datastore.Format;
using Rest.Onnx.Datastore.SuffixArrays;

namespace Rest.Onnx.Datastore.Building;

/// <summary>
/// Writes a datastore file from documents of token ids. Documents are joined with the separator inside a
/// shard; a shard is sealed (suffix array built and written) when the next document would overflow it.
/// The file is written under a temporary name next to the target and renamed by <see cref="Complete"/>;
/// disposing an incomplete writer deletes the temporary file, so a failed build leaves nothing behind.
/// Memory: about 6 bytes per token of the largest shard for 16-bit stores (8 for 32-bit) plus about n/4 bytes of SA-IS scratch. Not thread-safe.
/// </summary>
public sealed class DatastoreWriter : IDisposable
{
    private const int ChunkSize = 1 << 20;

    private readonly DatastoreBuildOptions _options;
    private readonly IProgress<DatastoreBuildProgress>? _progress;
    private readonly string _tempPath;
    private readonly FileStream _stream;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<int[]> _chunks = [];
    private readonly List<ShardEntry> _shards = [];
    private readonly int _tokenWidth;
    private long _shardTokens;
    private long _shardDocuments;
    private long _totalTokens;
    private long _documents;
    private bool _completed;
    private bool _disposed;

    private DatastoreWriter(string path, string tempPath, FileStream stream, DatastoreBuildOptions options, IProgress<DatastoreBuildProgress>? progress)
    {
        Path = path;
        _tempPath = tempPath;
        _stream = stream;
        _options = options;
        _progress = progress;
        _tokenWidth = DatastoreLayout.TokenWidthFor(options.VocabularySize);
    }

    /// <summary>The target file.</summary>
    public string Path { get; }

    /// <summary>Input files read so far, as counted by the caller (shown in progress reports).</summary>
    public long FilesRead { get; set; }

    /// <summary>Tokens added so far, separators included.</summary>
    public long TokenCount => _totalTokens;

    /// <summary>Starts writing <paramref name="path"/> (under a temporary name until <see cref="Complete"/>).</summary>
    /// <remarks>
    /// The output must be a new path or a regular file, which is replaced whole by a rename (so a reader that
    /// has the old file mapped keeps its pages). A symbolic link is followed: its final target is written and
    /// the link itself stays (see <see cref="ResolveOutput"/>). Devices, FIFOs, sockets and folders are refused.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="DatastoreBuildException">The output is a folder, device, FIFO or socket, or its folder is missing or not writable.</exception>
    public static DatastoreWriter Create(string path, DatastoreBuildOptions options, IProgress<DatastoreBuildProgress>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var full = ResolveOutput(path);
        var folder = System.IO.Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
            throw new DatastoreBuildException($"Output folder '{folder}' does not exist.");
        var temp = $"{full}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        FileStream stream;
        try
        {
            stream = new FileStream(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20);
            stream.Write(new byte[DatastoreLayout.HeaderSize]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new DatastoreBuildException($"Cannot create datastore file next to '{full}': {e.Message}", e);
        }
        return new DatastoreWriter(full, temp, stream, options, progress);
    }

    /// <summary>
    /// The file a build of <paramref name="path"/> writes: the full path, or for a symbolic link its final target
    /// (a dangling link names the new file to create). Refuses anything but a regular file or a new path.
    /// </summary>
    /// <exception cref="DatastoreBuildException">The path (or the link's target) is a folder, device, FIFO or socket, or a link loop.</exception>
    public static string ResolveOutput(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        if (FileKinds.Of(full, followLinks: false) == FileKind.Symlink)
        {
            FileSystemInfo? target;
            try { target = File.ResolveLinkTarget(full, returnFinalTarget: true); }
            catch (IOException e) { throw new DatastoreBuildException($"Output '{full}' is a symbolic link that cannot be resolved: {e.Message}", e); }
            if (target is not null) full = System.IO.Path.GetFullPath(target.FullName);
        }
        var kind = FileKinds.Of(full);
        return kind switch
        {
            FileKind.Missing or FileKind.Regular => full,
            FileKind.Directory => throw new DatastoreBuildException($"Output path '{full}' is a folder; give a file name."),
            _ => throw new DatastoreBuildException($"Output path '{full}' is {FileKinds.Describe(kind)}, not a regular file; a build only writes regular files."),
        };
    }

    /// <summary>Appends one document. Ids are checked against the vocabulary.</summary>
    /// <param name="tokens">The document's token ids (an empty document is skipped).</param>
    /// <param name="source">Where the document came from, named in error messages.</param>
    /// <exception cref="DatastoreBuildException">An id is outside the vocabulary, or writing a sealed shard failed.</exception>
    /// <exception cref="InvalidOperationException">The writer is completed or disposed.</exception>
    public void AddDocument(ReadOnlySpan<int> tokens, string? source = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed) throw new InvalidOperationException("The datastore is already complete.");
        if (tokens.IsEmpty) return;
        var bad = SuffixArrayBuilder.IndexOfOutside(tokens, _options.VocabularySize);
        if (bad >= 0)
            throw new DatastoreBuildException(
                $"Token id {tokens[bad]} at position {bad} of document {_documents}{(source is null ? "" : $" ({source})")} is outside the vocabulary [0, {_options.VocabularySize}).");

        var max = _options.MaxShardTokens;
        while (!tokens.IsEmpty)
        {
            // A document longer than a shard is cut into shard-sized pieces.
            var piece = tokens[..(int)Math.Min(tokens.Length, max)];
            var needsSeparator = _shardTokens > 0 && _options.Separator != DatastoreBuildOptions.NoSeparator;
            if (_shardTokens + (needsSeparator ? 1 : 0) + piece.Length > max)
            {
                SealShard();
                needsSeparator = false;
            }
            if (needsSeparator) Append([_options.Separator]);
            Append(piece);
            _shardDocuments++;
            tokens = tokens[piece.Length..];
        }
        _documents++;
    }

    /// <summary>Seals the last shard, writes the shard table and header, and renames the file into place.</summary>
    /// <exception cref="DatastoreBuildException">The corpus is empty, or writing failed (for example a full disk); no file is left.</exception>
    public DatastoreBuildSummary Complete()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_completed) throw new InvalidOperationException("The datastore is already complete.");
        try
        {
            if (_totalTokens == 0)
                throw new DatastoreBuildException($"The corpus for '{Path}' is empty: no document contained any token.");
            if (_shardTokens > 0) SealShard();
            WriteMetadataAndHeader();
            _stream.Flush(flushToDisk: true);
            var length = _stream.Length;
            _stream.Dispose();
            // Checked again at the rename: the target may have become a device or folder since Create.
            if (FileKinds.Of(Path) is not (FileKind.Missing or FileKind.Regular) and var kind)
                throw new DatastoreBuildException($"Output path '{Path}' became {FileKinds.Describe(kind)} during the build; nothing was written.");
            File.Move(_tempPath, Path, overwrite: true);
            _completed = true;
            Report(DatastoreBuildPhase.Done);
            return new DatastoreBuildSummary(Path, _totalTokens, _documents, _shards.Count, length, _clock.Elapsed);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Abort();
            throw new DatastoreBuildException($"Writing datastore '{Path}' failed: {e.Message} No file was left behind.", e);
        }
        catch
        {
            Abort();
            throw;
        }
    }

    /// <summary>Deletes the temporary file unless <see cref="Complete"/> succeeded.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_completed) Abort();
    }

    private void Abort()
    {
        _stream.Dispose();
        TryDelete(_tempPath);
        _chunks.Clear();
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private void Append(ReadOnlySpan<int> tokens)
    {
        while (!tokens.IsEmpty)
        {
            var inChunk = (int)(_shardTokens % ChunkSize);
            if (inChunk == 0 && _shardTokens / ChunkSize == _chunks.Count)
                _chunks.Add(GC.AllocateUninitializedArray<int>(ChunkSize));
            var chunk = _chunks[(int)(_shardTokens / ChunkSize)];
            var n = Math.Min(tokens.Length, ChunkSize - inChunk);
            tokens[..n].CopyTo(chunk.AsSpan(inChunk));
            tokens = tokens[n..];
            _shardTokens += n;
            _totalTokens += n;
        }
    }

    private void SealShard()
    {
        var n = (int)_shardTokens;
        // Gather the shard into one array in its stored width and free the chunks before sorting: the peak stays
        // near 6 bytes per token for 16-bit stores and 8 for 32-bit ones (text + int32 suffix array).
        ushort[]? text16 = null;
        int[]? text32 = null;
        if (_tokenWidth == 2) text16 = GC.AllocateUninitializedArray<ushort>(n);
        else text32 = GC.AllocateUninitializedArray<int>(n);
        for (var i = 0; i < _chunks.Count && i * (long)ChunkSize < n; i++)
        {
            var count = (int)Math.Min(ChunkSize, n - (long)i * ChunkSize);
            var chunk = _chunks[i].AsSpan(0, count);
            if (text16 is not null)
            {
                var target = text16.AsSpan(i * ChunkSize, count);
                for (var j = 0; j < count; j++) target[j] = (ushort)chunk[j];
            }
            else
            {
                chunk.CopyTo(text32.AsSpan(i * ChunkSize));
            }
        }
        _chunks.Clear();
        GC.Collect();

        Report(DatastoreBuildPhase.SuffixArray);
        var sa = GC.AllocateUninitializedArray<int>(n);
        if (text16 is not null) SuffixArrayBuilder.Build(text16, _options.VocabularySize, sa);
        else SuffixArrayBuilder.Build(text32, _options.VocabularySize, sa);

        Report(DatastoreBuildPhase.Writing);
        try
        {
            var tokensOffset = PadToAlignment();
            var tokensChecksum = text16 is not null
                ? WriteChecked(MemoryMarshal.AsBytes(text16.AsSpan()))
                : WriteChecked(MemoryMarshal.AsBytes(text32.AsSpan()));
            var saOffset = PadToAlignment();
            var saChecksum = WriteChecked(MemoryMarshal.AsBytes(sa.AsSpan()));
            _shards.Add(new ShardEntry(n, _totalTokens - n, tokensOffset, tokensChecksum, saOffset, saChecksum, _shardDocuments));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Abort();
            _disposed = true;
            throw new DatastoreBuildException($"Writing datastore '{Path}' failed: {e.Message} No file was left behind.", e);
        }
        _shardTokens = 0;
        _shardDocuments = 0;
        Report(DatastoreBuildPhase.Reading);
    }

    private long PadToAlignment()
    {
        var position = _stream.Position;
        var aligned = DatastoreLayout.Align(position);
        if (aligned > position) _stream.Write(new byte[aligned - position]);
        return aligned;
    }

    private ulong WriteChecked(ReadOnlySpan<byte> bytes)
    {
        var hash = new XxHash3();
        const int Step = 1 << 24;
        while (!bytes.IsEmpty)
        {
            var part = bytes[..Math.Min(Step, bytes.Length)];
            hash.Append(part);
            _stream.Write(part);
            bytes = bytes[part.Length..];
        }
        return hash.GetCurrentHashAsUInt64();
    }

    private void WriteMetadataAndHeader()
    {
        var fingerprint = Encoding.UTF8.GetBytes(_options.TokenizerFingerprint);
        var parameters = BuildParametersJson();
        var metadata = new byte[_shards.Count * DatastoreLayout.ShardEntrySize + 4 + fingerprint.Length + 4 + parameters.Length];
        var span = metadata.AsSpan();
        for (var i = 0; i < _shards.Count; i++)
            _shards[i].Write(span[(i * DatastoreLayout.ShardEntrySize)..]);
        var at = _shards.Count * DatastoreLayout.ShardEntrySize;
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], fingerprint.Length);
        fingerprint.CopyTo(span[(at + 4)..]);
        at += 4 + fingerprint.Length;
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], parameters.Length);
        parameters.CopyTo(span[(at + 4)..]);

        var metadataOffset = PadToAlignment();
        _stream.Write(metadata);
        var header = new FixedHeader(
            DatastoreLayout.Version, _options.VocabularySize, _tokenWidth, _options.Separator, _shards.Count,
            _totalTokens, _options.MaxShardTokens, metadataOffset, metadata.Length, XxHash3.HashToUInt64(metadata));
        var headerBytes = new byte[DatastoreLayout.HeaderSize];
        header.Write(headerBytes);
        _stream.Position = 0;
        _stream.Write(headerBytes);
    }

    private byte[] BuildParametersJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("builder", "Rest.Onnx.Datastore");
            json.WriteNumber("vocabularySize", _options.VocabularySize);
            json.WriteNumber("separator", _options.Separator);
            json.WriteNumber("maxShardTokens", _options.MaxShardTokens);
            json.WriteNumber("documents", _documents);
            json.WriteString("suffixArray", "SA-IS, int32, end of shard sorts first");
            json.WriteString("description", _options.Description);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>Reports a reading-phase snapshot (called by input readers between files).</summary>
    internal void ReportReading() => Report(DatastoreBuildPhase.Reading);

    /// <summary>Reports a warning in a reading-phase snapshot.</summary>
    internal void Warn(string message)
        => _progress?.Report(new DatastoreBuildProgress(DatastoreBuildPhase.Reading, FilesRead, _documents, _totalTokens, _shards.Count, _clock.Elapsed) { Warning = message });

    private void Report(DatastoreBuildPhase phase)
        => _progress?.Report(new DatastoreBuildProgress(phase, FilesRead, _documents, _totalTokens, _shards.Count, _clock.Elapsed));
}
