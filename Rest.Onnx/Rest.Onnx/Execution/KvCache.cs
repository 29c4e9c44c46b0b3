using Rest.Onnx.Manifest;

namespace Rest.Onnx.Execution;

/// <summary>
/// The KV cache of one generator, allocated once for maxLength positions. Two layouts:
/// <list type="bullet">
/// <item>two buffers per layer and kind (opset23 graphs): each step reads the past, [1, kvHeads, Length, headSize], from
/// one buffer and has ONNX Runtime write the present (past followed by the step's rows) into the other: binding one buffer
/// as both past and present of opset-23 <c>Attention</c> gives wrong results. A [1, kvHeads, L, headSize] tensor stores
/// head h's rows at h * L * headSize, so its layout depends on L: dropping rejected rows moves every head, which is why
/// compaction copies the whole cache into the other buffer (O(cached tokens) per step).</item>
/// <item>one shared buffer per layer and kind (<see cref="Shared"/>, gqa graphs): [1, kvHeads, maxLength, headSize], bound
/// as both past and present of GroupQueryAttention, which writes only the step's rows at Length..; after acceptance only
/// the accepted rows that are not already in place move down (O(accepted rows) per step).</item>
/// </list>
/// After acceptance, <see cref="Commit"/> keeps the prefix plus the accepted rows only.
/// </summary>
internal sealed class KvCache : IDisposable
{
    private readonly IDeviceBackend _backend;
    private readonly DeviceMemory[][] _buffers; // [layer * 2 + (value ? 1 : 0)][slot]
    private int _pastSlot;

    /// <summary>The cache layout <paramref name="manifest"/>'s graph needs (shared for gqa graphs).</summary>
    public static KvCache For(IDeviceBackend backend, ModelManifest manifest, int maxLength)
        => new(backend, manifest.NumLayers, manifest.NumKvHeads, manifest.HeadSize, manifest.KvElementSize, maxLength,
            shared: manifest.GraphVariant == GraphVariant.Gqa);

    public KvCache(IDeviceBackend backend, int layers, int kvHeads, int headSize, int elementSize, int maxLength, bool shared = false)
    {
        _backend = backend;
        Layers = layers;
        KvHeads = kvHeads;
        HeadSize = headSize;
        ElementSize = elementSize;
        MaxLength = maxLength;
        Shared = shared;
        var bytes = (long)kvHeads * maxLength * headSize * elementSize;
        _buffers = new DeviceMemory[layers * 2][];
        try
        {
            for (var i = 0; i < _buffers.Length; i++)
                _buffers[i] = shared ? [backend.Allocate(bytes)] : [backend.Allocate(bytes), backend.Allocate(bytes)];
        }
        catch
        {
            Dispose();
            throw;
        }
        BufferBytes = bytes;
    }

    public int Layers { get; }

    public int KvHeads { get; }

    public int HeadSize { get; }

    public int ElementSize { get; }

    public int MaxLength { get; }

    /// <summary>One buffer per layer and kind, shared by past and present ([1, kvHeads, MaxLength, headSize] bound as both).</summary>
    public bool Shared { get; }

    /// <summary>Bytes of one buffer.</summary>
    public long BufferBytes { get; }

    /// <summary>Bytes of all buffers: 2 (key, value) x layers x (1 shared or 2) x <see cref="BufferBytes"/>.</summary>
    public long TotalBytes => BufferBytes * Layers * 2 * (Shared ? 1 : 2);

    /// <summary>Positions currently cached.</summary>
    public int Length { get; private set; }

    /// <summary>Memory holding the past of <paramref name="layer"/> ([1, kvHeads, Length, headSize]).</summary>
    public IntPtr Past(int layer, bool value) => _buffers[layer * 2 + (value ? 1 : 0)][_pastSlot].Pointer;

    /// <summary>Memory the step writes the present of <paramref name="layer"/> into (the past's own buffer when shared).</summary>
    public IntPtr Present(int layer, bool value) => _buffers[layer * 2 + (value ? 1 : 0)][Shared ? 0 : 1 - _pastSlot].Pointer;

    /// <summary>
    /// Benchmarks only: zeroes the buffers (host memory) and marks the first <paramref name="length"/> positions as cached,
    /// so a step can be timed at a context length without prefilling it (a step's cost does not depend on the values).
    /// </summary>
    internal unsafe void PretendCached(int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaxLength);
        if (!_backend.IsHost) throw new NotSupportedException("PretendCached works on host memory only.");
        foreach (var slots in _buffers)
            foreach (var memory in slots) new Span<byte>((void*)memory.Pointer, checked((int)BufferBytes)).Clear();
        _pastSlot = 0;
        Length = length;
    }

    /// <summary>Forgets everything cached.</summary>
    public void Reset()
    {
        Length = 0;
        _pastSlot = 0;
    }

    /// <summary>
    /// Keeps the first <paramref name="length"/> cached positions and forgets the rest, so a sequence that
    /// starts with the cached one is not computed again. With two buffers the layout depends on the length, so the
    /// prefix moves into the other buffer with one strided copy per tensor; a shared buffer keeps it in place.
    /// </summary>
    public void Truncate(int length)
    {
        if ((uint)length > (uint)Length) throw new ArgumentOutOfRangeException(nameof(length), length, $"Only {Length} positions are cached.");
        if (length == Length) return;
        if (length == 0)
        {
            Reset();
            return;
        }
        if (Shared)
        {
            // Positions are in place in the one buffer: the prefix stays where it is.
            Length = length;
            return;
        }
        var rowBytes = (long)HeadSize * ElementSize;
        foreach (var slots in _buffers)
            _backend.Copy2D(slots[1 - _pastSlot].Pointer, length * rowBytes, slots[_pastSlot].Pointer, Length * rowBytes, length * rowBytes, KvHeads);
        _backend.Synchronize();
        _pastSlot = 1 - _pastSlot;
        Length = length;
    }

    /// <summary>
    /// Makes the step's present the new past, keeping the cached prefix plus <paramref name="keptRows"/>
    /// (ascending step rows, starting with row 0) in that order right after the prefix.
    /// </summary>
    public void Commit(int rows, ReadOnlySpan<int> keptRows)
    {
        if (keptRows.IsEmpty || keptRows[0] != 0) throw new ArgumentException("Kept rows must start with row 0.", nameof(keptRows));
        if (Length + rows > MaxLength) throw new InvalidOperationException($"KV cache overflow: {Length} + {rows} > {MaxLength}.");
        if (Shared)
        {
            CheckKept(rows, keptRows);
            var moved = false;
            for (var t = 0; t < _buffers.Length; t++)
                moved |= MoveKept(_backend, _buffers[t][0].Pointer, KvHeads, (long)HeadSize * ElementSize, MaxLength, Length, keptRows);
            if (moved) _backend.Synchronize();
        }
        else if (keptRows.Length == rows)
        {
            _pastSlot = 1 - _pastSlot; // every row kept: the present is the next past as it stands
        }
        else
        {
            for (var t = 0; t < _buffers.Length; t++)
            {
                var slots = _buffers[t];
                Compact(_backend, slots[1 - _pastSlot].Pointer, slots[_pastSlot].Pointer, KvHeads, (long)HeadSize * ElementSize, Length, rows, keptRows);
            }
            _backend.Synchronize();
        }
        Length += keptRows.Length;
    }

    /// <summary>
    /// Copies a [kvHeads, past + rows, row] tensor at <paramref name="source"/> into a [kvHeads, past + kept, row]
    /// tensor at <paramref name="destination"/>: the prefix, then the kept rows in order. Contiguous kept rows
    /// move as one strided copy, so a chain of accepted drafts costs one copy per tensor.
    /// </summary>
    internal static void Compact(
        IDeviceBackend backend, IntPtr source, IntPtr destination, int kvHeads, long rowBytes,
        int past, int rows, ReadOnlySpan<int> keptRows)
    {
        var sourcePitch = (past + rows) * rowBytes;
        var destinationPitch = (past + keptRows.Length) * rowBytes;
        var written = 0;
        var i = 0;
        while (i < keptRows.Length)
        {
            var start = keptRows[i];
            if (start < 0 || start >= rows || (i > 0 && start <= keptRows[i - 1]))
                throw new ArgumentException($"Kept rows must ascend within 0..{rows - 1}; got {start} at {i}.", nameof(keptRows));
            var length = 1;
            while (i + length < keptRows.Length && keptRows[i + length] == start + length) length++;
            // Row 0 always opens the first run, which then also carries the prefix.
            var sourceOffset = start == 0 ? 0 : (past + start) * rowBytes;
            var destinationOffset = start == 0 ? 0 : (past + written) * rowBytes;
            var width = (start == 0 ? past + length : length) * rowBytes;
            backend.Copy2D(destination + (nint)destinationOffset, destinationPitch, source + (nint)sourceOffset, sourcePitch, width, kvHeads);
            written += length;
            i += length;
        }
    }

    private static void CheckKept(int rows, ReadOnlySpan<int> keptRows)
    {
        for (var i = 0; i < keptRows.Length; i++)
        {
            var row = keptRows[i];
            if (row < 0 || row >= rows || (i > 0 && row <= keptRows[i - 1]))
                throw new ArgumentException($"Kept rows must ascend within 0..{rows - 1}; got {row} at {i}.", nameof(keptRows));
        }
    }

    /// <summary>
    /// In a [kvHeads, maxLength, row] buffer whose positions past.. hold the step's rows, moves kept row keptRows[i] to
    /// position past + i. Rows already in place (the accepted chain's leading run) stay put; a run of rows shifted by s
    /// moves in chunks of at most s rows, lowest first, so no chunk overlaps its source and no source is overwritten
    /// before it is read. Returns whether anything moved.
    /// </summary>
    internal static bool MoveKept(IDeviceBackend backend, IntPtr buffer, int kvHeads, long rowBytes, int maxLength, int past, ReadOnlySpan<int> keptRows)
    {
        var pitch = maxLength * rowBytes;
        var moved = false;
        var i = 0;
        while (i < keptRows.Length)
        {
            var shift = keptRows[i] - i;
            var length = 1;
            while (i + length < keptRows.Length && keptRows[i + length] - (i + length) == shift) length++;
            if (shift > 0)
            {
                for (var done = 0; done < length; done += shift)
                {
                    var chunk = Math.Min(shift, length - done);
                    var destination = (past + i + done) * rowBytes;
                    backend.Copy2D(buffer + (nint)destination, pitch, buffer + (nint)(destination + shift * rowBytes), pitch, chunk * rowBytes, kvHeads);
                }
                moved = true;
            }
            i += length;
        }
        return moved;
    }

    public void Dispose()
    {
        foreach (var slots in _buffers)
        {
            if (slots is null) continue;
            foreach (var memory in slots) memory?.Dispose();
        }
    }
}
