using System.Buffers;
using System.Text;

namespace Rest.Onnx.Tokenization.SentencePiece;

/// <summary>
/// SentencePiece BPE encoding and decoding, reproducing <c>spm_encode</c> id for id:
/// the text is normalized (spaces become U+2581 per the model's normalizer flags), split into
/// characters, and adjacent symbols are merged greedily by the score of the merged piece, the highest
/// first and, among equal scores, the leftmost first. Symbols left that are not in the vocabulary fall
/// back to <c>&lt;0xNN&gt;</c> byte pieces (or unk without byte fallback).
/// <para>
/// Microsoft.ML.Tokenizers 2.0.1 resolves equal-score ties rightmost first, which changes ids on runs of
/// spaces in code; that is why the project carries this encoder.
/// </para>
/// Thread-safe: the vocabulary is read-only and the scratch buffers are per thread.
/// </summary>
internal sealed class BpeEncoder
{
    /// <summary>The whitespace marker SentencePiece substitutes for ' '.</summary>
    public const char SpaceSymbol = '\u2581';

    private readonly SentencePieceModel _model;
    private readonly Dictionary<string, int> _pieceIds;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly int[] _byteIds;
    private readonly string[] _userDefined;
    private readonly bool _hasUnused;
    private readonly int _maxPieceLength;
    private readonly byte[][] _surfaces;
    private byte[][]? _surfacesWithControl;

    [ThreadStatic] private static Workspace? t_workspace;

    public BpeEncoder(SentencePieceModel model, string path)
    {
        _model = model;
        if (model.ModelType != SentencePieceModel.ModelTypeBpe)
            throw new InvalidDataException($"'{path}' is a SentencePiece model of type {model.ModelType}; only BPE (type {SentencePieceModel.ModelTypeBpe}) is supported.");
        if (model.PrecompiledCharsMapLength > 0)
            throw new InvalidDataException($"'{path}' uses the normalization rule '{model.NormalizerName}' (a precompiled character map); only 'identity' normalization is supported.");

        _pieceIds = new Dictionary<string, int>(StringComparer.Ordinal);
        _byteIds = new int[256];
        Array.Fill(_byteIds, -1);
        var userDefined = new List<string>();
        for (var id = 0; id < model.Pieces.Length; id++)
        {
            var piece = model.Pieces[id];
            switch (model.Types[id])
            {
                case PieceType.Normal or PieceType.UserDefined or PieceType.Unused:
                    if (!_pieceIds.TryAdd(piece, id))
                        throw new InvalidDataException($"'{path}': piece '{piece}' occurs twice (ids {_pieceIds[piece]} and {id}).");
                    _maxPieceLength = Math.Max(_maxPieceLength, piece.Length);
                    if (model.Types[id] == PieceType.UserDefined) userDefined.Add(piece);
                    if (model.Types[id] == PieceType.Unused) _hasUnused = true;
                    break;
                case PieceType.Byte:
                    if (piece.Length != 6 || !piece.StartsWith("<0x", StringComparison.Ordinal) || piece[5] != '>'
                        || !byte.TryParse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out var value))
                        throw new InvalidDataException($"'{path}': byte piece {id} is '{piece}', expected '<0xNN>'.");
                    _byteIds[value] = id;
                    break;
            }
        }
        if (model.ByteFallback && Array.IndexOf(_byteIds, -1) >= 0)
            throw new InvalidDataException($"'{path}' enables byte fallback but lacks byte piece <0x{Array.IndexOf(_byteIds, -1):X2}>.");
        _lookup = _pieceIds.GetAlternateLookup<ReadOnlySpan<char>>();
        _userDefined = [.. userDefined.OrderByDescending(p => p.Length)];
        _surfaces = BuildSurfaces(model);
    }

    public int VocabularySize => _model.Pieces.Length;

    /// <summary>Appends the ids of <paramref name="text"/> (no BOS/EOS) to <paramref name="ids"/>.</summary>
    public void Encode(ReadOnlySpan<char> text, List<int> ids)
    {
        if (text.IsEmpty) return;
        var ws = t_workspace ??= new Workspace();
        var normalized = Normalize(text, ws);
        if (normalized.IsEmpty) return;

        var symbolCount = SplitCharacters(normalized, ws);
        var symbols = ws.Symbols;
        ws.HeapCount = 0;
        Dictionary<string, (string Left, string Right)>? reverseMerges = _hasUnused ? [] : null;
        for (var i = 1; i < symbolCount; i++) TryAddPair(ws, normalized, i - 1, i, reverseMerges);

        while (ws.HeapCount > 0)
        {
            var top = PopBest(ws);
            ref var left = ref symbols[top.Left];
            ref var right = ref symbols[top.Right];
            // Skip pairs made stale by an earlier merge (either side changed or vanished).
            if (left.Length == 0 || right.Length == 0 || left.Length + right.Length != top.Length) continue;
            left.Length += right.Length;
            left.Next = right.Next;
            if (right.Next >= 0) symbols[right.Next].Prev = top.Left;
            right.Length = 0;
            TryAddPair(ws, normalized, left.Prev, top.Left, reverseMerges);
            TryAddPair(ws, normalized, top.Left, left.Next, reverseMerges);
        }

        for (var index = 0; index >= 0; index = symbols[index].Next)
        {
            var piece = normalized.Slice(symbols[index].Start, symbols[index].Length);
            EmitPiece(piece, ids, reverseMerges);
        }
    }

    /// <summary>Decodes ids to text; control ids (BOS, EOS, pad) produce nothing unless <paramref name="keepControl"/>, which writes their piece text.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public string Decode(ReadOnlySpan<int> ids, bool keepControl = false)
    {
        var surfaces = keepControl ? _surfacesWithControl ??= BuildSurfaces(_model, keepControl: true) : _surfaces;
        var total = 0;
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)surfaces.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is outside the vocabulary [0, {surfaces.Length}).");
            total += surfaces[id].Length;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(total, 1));
        try
        {
            var length = 0;
            var afterControl = false;
            foreach (var id in ids)
            {
                var surface = surfaces[id];
                if (surface.Length == 0) continue;
                // SentencePiece drops the space that add_dummy_prefix put in front of the first piece; with control
                // pieces kept, each run between them is decoded alike (as transformers' slow Llama tokenizer does).
                var control = _model.Types[id] == PieceType.Control;
                var skip = (length == 0 || afterControl) && !control && _model.AddDummyPrefix && !_model.TreatWhitespaceAsSuffix && surface[0] == (byte)' ' && _model.Types[id] != PieceType.Byte ? 1 : 0;
                surface.AsSpan(skip).CopyTo(buffer.AsSpan(length));
                length += surface.Length - skip;
                afterControl = control;
            }
            if (length > 0 && _model.AddDummyPrefix && _model.TreatWhitespaceAsSuffix && buffer[length - 1] == (byte)' ') length--;
            return Encoding.UTF8.GetString(buffer, 0, length);
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    private static byte[][] BuildSurfaces(SentencePieceModel model, bool keepControl = false)
    {
        var surfaces = new byte[model.Pieces.Length][];
        for (var id = 0; id < surfaces.Length; id++)
        {
            var piece = model.Pieces[id];
            surfaces[id] = model.Types[id] switch
            {
                PieceType.Control => keepControl ? Encoding.UTF8.GetBytes(piece) : [],
                PieceType.Unknown => Encoding.UTF8.GetBytes(" \u2047 "),
                PieceType.Byte => [Convert.ToByte(piece.Substring(3, 2), 16)],
                _ => Encoding.UTF8.GetBytes(model.EscapeWhitespaces ? piece.Replace(SpaceSymbol, ' ') : piece),
            };
        }
        return surfaces;
    }

    /// <summary>SentencePiece's normalizer without a character map: whitespace flags only.</summary>
    private ReadOnlySpan<char> Normalize(ReadOnlySpan<char> text, Workspace ws)
    {
        var model = _model;
        if (model.RemoveExtraWhitespaces) text = text.Trim(' ');
        if (text.IsEmpty) return [];
        var buffer = ws.EnsureText(text.Length + 2);
        var n = 0;
        var dummy = model.AddDummyPrefix;
        var space = model.EscapeWhitespaces ? SpaceSymbol : ' ';
        if (dummy && !model.TreatWhitespaceAsSuffix) buffer[n++] = space;
        var previousSpace = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == ' ')
            {
                if (model.RemoveExtraWhitespaces && previousSpace) continue;
                previousSpace = true;
                buffer[n++] = space;
                continue;
            }
            previousSpace = false;
            // Unpaired surrogates are invalid UTF-8 for SentencePiece, which reads them as U+FFFD.
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                buffer[n++] = c;
                buffer[n++] = text[++i];
            }
            else buffer[n++] = char.IsSurrogate(c) ? '\uFFFD' : c;
        }
        if (dummy && model.TreatWhitespaceAsSuffix) buffer[n++] = space;
        return buffer.AsSpan(0, n);
    }

    /// <summary>Initial symbols: user-defined pieces as whole symbols, otherwise one code point each.</summary>
    private int SplitCharacters(ReadOnlySpan<char> text, Workspace ws)
    {
        var symbols = ws.EnsureSymbols(text.Length);
        var count = 0;
        for (var i = 0; i < text.Length;)
        {
            var length = char.IsHighSurrogate(text[i]) && i + 1 < text.Length ? 2 : 1;
            foreach (var user in _userDefined)
            {
                if (text[i..].StartsWith(user, StringComparison.Ordinal)) { length = user.Length; break; }
            }
            symbols[count] = new Symbol { Start = i, Length = length, Prev = count - 1, Next = i + length < text.Length ? count + 1 : -1 };
            count++;
            i += length;
        }
        return count;
    }

    private void TryAddPair(Workspace ws, ReadOnlySpan<char> text, int left, int right, Dictionary<string, (string, string)>? reverseMerges)
    {
        if (left < 0 || right < 0) return;
        var symbols = ws.Symbols;
        var length = symbols[left].Length + symbols[right].Length;
        if (length > _maxPieceLength) return;
        var merged = text.Slice(symbols[left].Start, length);
        if (!_lookup.TryGetValue(merged, out var id)) return;
        if (_userDefined.Length > 0 && (IsUserDefined(text, symbols[left]) || IsUserDefined(text, symbols[right]))) return;
        Push(ws, new Pair(_model.Scores[id], left, right, length));
        if (reverseMerges is not null && _model.Types[id] == PieceType.Unused)
            reverseMerges[merged.ToString()] = (text.Slice(symbols[left].Start, symbols[left].Length).ToString(),
                                                text.Slice(symbols[right].Start, symbols[right].Length).ToString());
    }

    private bool IsUserDefined(ReadOnlySpan<char> text, Symbol symbol)
        => _lookup.TryGetValue(text.Slice(symbol.Start, symbol.Length), out var id) && _model.Types[id] == PieceType.UserDefined;

    private void EmitPiece(ReadOnlySpan<char> piece, List<int> ids, Dictionary<string, (string Left, string Right)>? reverseMerges)
    {
        if (_lookup.TryGetValue(piece, out var id))
        {
            // Unused pieces may be passed through while merging but never emitted: split them back.
            if (_model.Types[id] == PieceType.Unused && reverseMerges is not null && reverseMerges.TryGetValue(piece.ToString(), out var parts))
            {
                EmitPiece(parts.Left, ids, reverseMerges);
                EmitPiece(parts.Right, ids, reverseMerges);
                return;
            }
            ids.Add(id);
            return;
        }
        if (!_model.ByteFallback)
        {
            ids.Add(_model.UnkId);
            return;
        }
        Span<byte> bytes = stackalloc byte[16];
        var count = Encoding.UTF8.GetBytes(piece, bytes);
        for (var i = 0; i < count; i++) ids.Add(_byteIds[bytes[i]]);
    }

    // Max-heap on (score, then smaller left index): SentencePiece's agenda order.
    private static bool Before(in Pair a, in Pair b) => a.Score > b.Score || (a.Score == b.Score && a.Left < b.Left);

    private static void Push(Workspace ws, Pair pair)
    {
        var heap = ws.EnsureHeap(ws.HeapCount + 1);
        var i = ws.HeapCount++;
        while (i > 0)
        {
            var parent = (i - 1) >> 1;
            if (!Before(pair, heap[parent])) break;
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = pair;
    }

    private static Pair PopBest(Workspace ws)
    {
        var heap = ws.Heap;
        var best = heap[0];
        var last = heap[--ws.HeapCount];
        var count = ws.HeapCount;
        var i = 0;
        while (true)
        {
            var child = 2 * i + 1;
            if (child >= count) break;
            if (child + 1 < count && Before(heap[child + 1], heap[child])) child++;
            if (!Before(heap[child], last)) break;
            heap[i] = heap[child];
            i = child;
        }
        if (count > 0) heap[i] = last;
        return best;
    }

    private struct Symbol
    {
        public int Start, Length, Prev, Next;
    }

    private readonly record struct Pair(float Score, int Left, int Right, int Length);

    /// <summary>Per-thread scratch buffers, grown on demand and reused across calls.</summary>
    private sealed class Workspace
    {
        public char[] Text = new char[256];
        public Symbol[] Symbols = new Symbol[256];
        public Pair[] Heap = new Pair[256];
        public int HeapCount;

        public char[] EnsureText(int length) => Text.Length >= length ? Text : Text = new char[Grow(Text.Length, length)];

        public Symbol[] EnsureSymbols(int length) => Symbols.Length >= length ? Symbols : Symbols = new Symbol[Grow(Symbols.Length, length)];

        public Pair[] EnsureHeap(int length)
        {
            if (Heap.Length >= length) return Heap;
            var grown = new Pair[Grow(Heap.Length, length)];
            Array.Copy(Heap, grown, HeapCount);
            return Heap = grown;
        }

        private static int Grow(int current, int needed) => Math.Max(needed, current * 2);
    }
}
