using Rest.Onnx.Execution;

namespace Rest.Onnx.Tests.Runtime;

public class KvCacheTests
{
    [Test]
    public unsafe void CompactEqualsNaiveGatherOnRandomShapes()
    {
        var random = new Random(7);
        for (var trial = 0; trial < 300; trial++)
        {
            var heads = random.Next(1, 5);
            var headSize = random.Next(1, 6);
            var past = random.Next(0, 9);
            var rows = random.Next(1, 12);
            var kept = RandomKeptRows(random, rows);
            var source = new float[heads * (past + rows) * headSize];
            for (var i = 0; i < source.Length; i++) source[i] = random.Next(1000);
            var destination = new float[heads * (past + kept.Length) * headSize];

            fixed (float* s = source)
            fixed (float* d = destination)
            {
                KvCache.Compact(CpuBackend.Instance, (IntPtr)s, (IntPtr)d, heads, headSize * sizeof(float), past, rows, kept);
            }

            var expected = NaiveCompact(source, heads, headSize, past, rows, kept);
            Assert.That(destination, Is.EqualTo(expected), $"trial {trial}: heads {heads}, past {past}, rows {rows}, kept [{string.Join(",", kept)}]");
        }
    }

    [Test]
    public unsafe void CommitSwapsBuffersWhenEveryRowIsKeptAndCompactsOtherwise()
    {
        using var cache = new KvCache(CpuBackend.Instance, layers: 1, kvHeads: 2, headSize: 1, elementSize: sizeof(float), maxLength: 8);
        // Step 1: three rows, all kept -> present becomes past without copying.
        var present = cache.Present(0, value: false);
        Write(present, [10, 11, 12, 20, 21, 22]); // [heads=2, 3, 1]
        cache.Commit(3, [0, 1, 2]);
        Assert.That(cache.Length, Is.EqualTo(3));
        Assert.That(cache.Past(0, value: false), Is.EqualTo(present));

        // Step 2: the model writes past (3) + 4 rows; rows 0 and 2 are kept.
        var next = cache.Present(0, value: false);
        Assert.That(next, Is.Not.EqualTo(present));
        Write(next, [10, 11, 12, 30, 31, 32, 33, 20, 21, 22, 40, 41, 42, 43]);
        cache.Commit(4, [0, 2]);
        Assert.That(cache.Length, Is.EqualTo(5));
        Assert.That(Read(cache.Past(0, value: false), 10), Is.EqualTo(new float[] { 10, 11, 12, 30, 32, 20, 21, 22, 40, 42 }));
    }

    [Test]
    public unsafe void SharedBufferMoveEqualsNaiveGatherOnRandomShapes()
    {
        var random = new Random(8);
        for (var trial = 0; trial < 300; trial++)
        {
            var heads = random.Next(1, 5);
            var headSize = random.Next(1, 6);
            var past = random.Next(0, 9);
            var rows = random.Next(1, 40);
            var maxLength = past + rows + random.Next(0, 4);
            var kept = RandomKeptRows(random, rows);
            var buffer = new float[heads * maxLength * headSize];
            for (var i = 0; i < buffer.Length; i++) buffer[i] = random.Next(1000);
            // The naive answer: the [heads, past + rows] live part gathered, then laid out with pitch maxLength.
            var live = new float[heads * (past + rows) * headSize];
            for (var h = 0; h < heads; h++)
                Array.Copy(buffer, h * maxLength * headSize, live, h * (past + rows) * headSize, (past + rows) * headSize);
            var expected = NaiveCompact(live, heads, headSize, past, rows, kept);

            fixed (float* b = buffer)
            {
                KvCache.MoveKept(CpuBackend.Instance, (IntPtr)b, heads, headSize * sizeof(float), maxLength, past, kept);
            }

            var length = past + kept.Length;
            for (var h = 0; h < heads; h++)
                Assert.That(buffer.AsSpan(h * maxLength * headSize, length * headSize).ToArray(),
                    Is.EqualTo(expected.AsSpan(h * length * headSize, length * headSize).ToArray()),
                    $"trial {trial}: head {h}, past {past}, rows {rows}, kept [{string.Join(",", kept)}]");
        }
    }

    [Test]
    public void SharedCacheUsesOneBufferForPastAndPresentAndHalfTheBytes()
    {
        using var shared = new KvCache(CpuBackend.Instance, layers: 3, kvHeads: 2, headSize: 4, elementSize: sizeof(float), maxLength: 16, shared: true);
        using var pair = new KvCache(CpuBackend.Instance, layers: 3, kvHeads: 2, headSize: 4, elementSize: sizeof(float), maxLength: 16);
        Assert.That(shared.Present(1, value: true), Is.EqualTo(shared.Past(1, value: true)));
        Assert.That(pair.Present(1, value: true), Is.Not.EqualTo(pair.Past(1, value: true)));
        Assert.That(shared.TotalBytes, Is.EqualTo(2L * 3 * 2 * 16 * 4 * sizeof(float)));
        Assert.That(pair.TotalBytes, Is.EqualTo(2 * shared.TotalBytes));
        shared.Commit(5, [0, 2, 3]);
        Assert.That(shared.Length, Is.EqualTo(3));
        Assert.Throws<ArgumentException>(() => shared.Commit(3, [0, 2, 1]));
    }

    [Test]
    public void CommitRejectsRowsThatDoNotStartAtTheRoot()
    {
        using var cache = new KvCache(CpuBackend.Instance, 1, 1, 1, sizeof(float), 8);
        Assert.Throws<ArgumentException>(() => cache.Commit(3, [1, 2]));
    }

    private static int[] RandomKeptRows(Random random, int rows)
    {
        var kept = new List<int> { 0 };
        for (var r = 1; r < rows; r++) if (random.Next(3) == 0) kept.Add(r);
        if (random.Next(4) == 0) { kept.Clear(); for (var r = 0; r < rows; r++) kept.Add(r); }
        return [.. kept];
    }

    private static float[] NaiveCompact(float[] source, int heads, int headSize, int past, int rows, int[] kept)
    {
        var length = past + kept.Length;
        var result = new float[heads * length * headSize];
        for (var h = 0; h < heads; h++)
        {
            for (var t = 0; t < length; t++)
            {
                var sourceRow = t < past ? t : past + kept[t - past];
                for (var x = 0; x < headSize; x++)
                    result[(h * length + t) * headSize + x] = source[(h * (past + rows) + sourceRow) * headSize + x];
            }
        }
        return result;
    }

    private static unsafe void Write(IntPtr pointer, float[] values) => values.CopyTo(new Span<float>((void*)pointer, values.Length));

    private static unsafe float[] Read(IntPtr pointer, int count) => new Span<float>((void*)pointer, count).ToArray();
}
