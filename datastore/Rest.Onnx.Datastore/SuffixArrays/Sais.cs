using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Rest.Onnx.Datastore.SuffixArrays;

/// <summary>
/// SA-IS core over raw pointers (the text of a recursion level lives in the tail of the suffix array,
/// so both must be addressable at once). Suffix n is a virtual sentinel smaller than every token.
/// Type bits: 1 = S-type, 0 = L-type.
/// </summary>
[SkipLocalsInit]
internal static unsafe class Sais
{
    /// <summary>
    /// Sorts the suffixes of s[0..n) (n &gt;= 2, tokens in [0, k); T is ushort or int) into sa[0..n). With keepCounts a
    /// symbol-count array saves rescanning the text for buckets; worth it when k is small next to n.
    /// A caller-provided bucketSpace of k ints (free suffix-array space of the level above) saves an allocation.
    /// </summary>
    public static void Run<T>(T* s, int* sa, int n, int k, bool keepCounts, int* bucketSpace = null)
        where T : unmanaged, IBinaryInteger<T>
    {
        var types = (byte*)NativeMemory.AllocZeroed((nuint)((n >> 3) + 1));
        var ownsBucket = bucketSpace == null;
        var bucket = ownsBucket ? (int*)NativeMemory.Alloc((nuint)k, sizeof(int)) : bucketSpace;
        var counts = keepCounts ? (int*)NativeMemory.AllocZeroed((nuint)k, sizeof(int)) : null;
        try
        {
            Classify(s, types, n);
            if (counts != null)
                for (var i = 0; i < n; i++) counts[Sym(s[i])]++;

            // Stage 1: sort the LMS substrings by inducing from their unsorted positions.
            new Span<int>(sa, n).Fill(-1);
            BucketEnds(s, n, k, counts, bucket);
            for (var i = 1; i < n; i++)
                if (IsLms(types, i)) sa[--bucket[Sym(s[i])]] = i;
            InduceL(s, sa, types, n, k, counts, bucket);
            InduceS(s, sa, types, n, k, counts, bucket);

            // Compact the sorted LMS positions into sa[0..n1); n1 <= n/2 because LMS positions are never adjacent.
            var n1 = 0;
            for (var i = 0; i < n; i++)
            {
                // Type bits of sorted positions are random reads: fetch a later entry's early.
                if (Sse.IsSupported && i + PrefetchDistance < n) Sse.Prefetch0(types + (sa[i + PrefetchDistance] >> 3));
                var p = sa[i];
                if (IsLms(types, p)) sa[n1++] = p;
            }

            // Name the LMS substrings; equal substrings share a name. Names go to sa[n1 + pos/2].
            new Span<int>(sa + n1, n - n1).Fill(-1);
            var names = 0;
            var previous = -1;
            for (var i = 0; i < n1; i++)
            {
                if (Sse.IsSupported && i + PrefetchDistance < n1)
                {
                    // Each substring starts at a random position and its name goes to a random slot.
                    var ahead = sa[i + PrefetchDistance];
                    Sse.Prefetch0(s + ahead);
                    Sse.Prefetch0(types + (ahead >> 3));
                    Sse.Prefetch0(sa + n1 + (ahead >> 1));
                }
                var pos = sa[i];
                if (previous < 0 || !EqualLmsSubstrings(s, types, n, pos, previous))
                {
                    names++;
                    previous = pos;
                }
                sa[n1 + (pos >> 1)] = names - 1;
            }
            for (int i = n - 1, j = n - 1; i >= n1; i--)
                if (sa[i] >= 0) sa[j--] = sa[i];

            // Stage 2: the reduced string s1 sits in sa[n-n1..n); solve it into sa[0..n1).
            var s1 = sa + n - n1;
            if (names < n1)
            {
                // The reduced alphabet can be as large as n1: rescan for buckets instead of keeping counts, and put
                // the buckets in sa[n1, n-n1), which the recursion leaves alone, when they fit (keeps ~8 bytes/token).
                var space = n - 2 * n1 >= names ? sa + n1 : null;
                Run(s1, sa, n1, names, keepCounts: names <= (n1 >> 3), space);
            }
            else
            {
                for (var i = 0; i < n1; i++) sa[s1[i]] = i;
            }

            // Stage 3: place the sorted LMS suffixes at their bucket ends and induce the rest.
            for (int i = 1, j = 0; i < n; i++)
                if (IsLms(types, i)) s1[j++] = i;
            for (var i = 0; i < n1; i++)
            {
                if (Sse.IsSupported && i + PrefetchDistance < n1) Sse.Prefetch0(s1 + sa[i + PrefetchDistance]);
                sa[i] = s1[sa[i]];
            }
            new Span<int>(sa + n1, n - n1).Fill(-1);
            BucketEnds(s, n, k, counts, bucket);
            for (var i = n1 - 1; i >= 0; i--)
            {
                if (Sse.IsSupported && i >= PrefetchDistance) Sse.Prefetch0(s + sa[i - PrefetchDistance]);
                var j = sa[i];
                sa[i] = -1;
                sa[--bucket[Sym(s[j])]] = j;
            }
            InduceL(s, sa, types, n, k, counts, bucket);
            InduceS(s, sa, types, n, k, counts, bucket);
        }
        finally
        {
            NativeMemory.Free(counts);
            if (ownsBucket) NativeMemory.Free(bucket);
            NativeMemory.Free(types);
        }
    }

    private static void Classify<T>(T* s, byte* types, int n)
        where T : unmanaged, IBinaryInteger<T>
    {
        // s[n-1] is L-type: it is larger than the virtual sentinel. Bits start cleared (L).
        var nextIsS = false;
        var next = Sym(s[n - 1]);
        for (var i = n - 2; i >= 0; i--)
        {
            var c = Sym(s[i]);
            var isS = c < next || (c == next && nextIsS);
            if (isS) types[i >> 3] |= (byte)(1 << (i & 7));
            nextIsS = isS;
            next = c;
        }
    }

    private const int PrefetchDistance = 48;

    /// <summary>A symbol as int: level 0 may hold 16-bit tokens, recursion levels hold int32 names.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Sym<T>(T value) where T : unmanaged, IBinaryInteger<T> => int.CreateTruncating(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch<T>(T* s, byte* types, int j)
        where T : unmanaged, IBinaryInteger<T>
    {
        // A hint only: an address from an unfilled (-1) entry is harmless.
        if (Sse.IsSupported && j >= 0)
        {
            Sse.Prefetch0(s + j);
            Sse.Prefetch0(types + (j >> 3));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchBucket<T>(T* s, int* bucket, int j)
        where T : unmanaged, IBinaryInteger<T>
    {
        if (Sse.IsSupported && j >= 0) Sse.Prefetch0(bucket + Sym(s[j]));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsS(byte* types, int i) => (types[i >> 3] & (1 << (i & 7))) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsLms(byte* types, int i) => i > 0 && IsS(types, i) && !IsS(types, i - 1);

    private static bool EqualLmsSubstrings<T>(T* s, byte* types, int n, int a, int b)
        where T : unmanaged, IBinaryInteger<T>
    {
        for (var d = 0; ; d++)
        {
            // Reaching the virtual sentinel in one substring only: the sentinel is unique, so they differ.
            if (a + d == n || b + d == n) return false;
            if (Sym(s[a + d]) != Sym(s[b + d]) || IsS(types, a + d) != IsS(types, b + d)) return false;
            if (d > 0 && (IsLms(types, a + d) || IsLms(types, b + d))) return true;
        }
    }

    private static void Counts<T>(T* s, int n, int k, int* counts, int* bucket)
        where T : unmanaged, IBinaryInteger<T>
    {
        if (counts != null)
        {
            new Span<int>(bucket, k).Clear();
            return;
        }
        new Span<int>(bucket, k).Clear();
        for (var i = 0; i < n; i++) bucket[Sym(s[i])]++;
    }

    private static void BucketStarts<T>(T* s, int n, int k, int* counts, int* bucket)
        where T : unmanaged, IBinaryInteger<T>
    {
        Counts(s, n, k, counts, bucket);
        var source = counts != null ? counts : bucket;
        var sum = 0;
        for (var c = 0; c < k; c++)
        {
            var count = source[c];
            bucket[c] = sum;
            sum += count;
        }
    }

    private static void BucketEnds<T>(T* s, int n, int k, int* counts, int* bucket)
        where T : unmanaged, IBinaryInteger<T>
    {
        Counts(s, n, k, counts, bucket);
        var source = counts != null ? counts : bucket;
        var sum = 0;
        for (var c = 0; c < k; c++)
        {
            sum += source[c];
            bucket[c] = sum;
        }
    }

    private static void InduceL<T>(T* s, int* sa, byte* types, int n, int k, int* counts, int* bucket)
        where T : unmanaged, IBinaryInteger<T>
    {
        BucketStarts(s, n, k, counts, bucket);
        // The virtual sentinel comes first; its predecessor n-1 is L-type.
        sa[bucket[Sym(s[n - 1])]++] = n - 1;
        for (var i = 0; i < n; i++)
        {
            // The loop is bound by random reads of s[j] and its type bit: fetch those of a later entry early.
            if (i + PrefetchDistance < n)
            {
                Prefetch(s, types, sa[i + PrefetchDistance] - 1);
                // Second stage: that symbol has arrived by now; fetch its bucket pointer (large in recursion levels).
                PrefetchBucket(s, bucket, sa[i + PrefetchDistance / 2] - 1);
            }
            var j = sa[i] - 1;
            if (j >= 0 && !IsS(types, j)) sa[bucket[Sym(s[j])]++] = j;
        }
    }

    private static void InduceS<T>(T* s, int* sa, byte* types, int n, int k, int* counts, int* bucket)
        where T : unmanaged, IBinaryInteger<T>
    {
        BucketEnds(s, n, k, counts, bucket);
        for (var i = n - 1; i >= 0; i--)
        {
            if (i >= PrefetchDistance)
            {
                Prefetch(s, types, sa[i - PrefetchDistance] - 1);
                PrefetchBucket(s, bucket, sa[i - PrefetchDistance / 2] - 1);
            }
            var j = sa[i] - 1;
            if (j >= 0 && IsS(types, j)) sa[--bucket[Sym(s[j])]] = j;
        }
    }
}
