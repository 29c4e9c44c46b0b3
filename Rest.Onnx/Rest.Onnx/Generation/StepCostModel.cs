using System.Diagnostics;

namespace Rest.Onnx;

/// <summary>
/// The measured cost of a verification step on the running engine: seconds as a function of the rows verified
/// (root plus draft nodes) and the cached length, learned from the steps themselves. Cached lengths fall into
/// classes (up to 256, 512, 1024, ... positions); per class and row count it keeps the mean of the last 16
/// samples of the forward pass's time (filling the inputs and running the model) without the largest one:
/// tokens per second depend on the expected time, which on a shared machine includes being descheduled (those
/// delays were measured to hit short and long steps alike, so a low quantile overstated what extra rows cost),
/// while one freak stall is dropped. Row counts never measured in a class borrow the shape
/// of the nearest class that measured them, scaled to this class, or are interpolated; the curve is then the
/// lower non-decreasing envelope (t(r) = the least estimate at r or more rows). Held by <see cref="RestModel.StepCosts"/> (one per model and
/// execution provider), shared by its generators; thread-safe.
/// </summary>
internal sealed class StepCostModel
{
    /// <summary>Most rows the model tracks (larger counts are extrapolated).</summary>
    public const int MaxRows = 1025;

    private const int Classes = 8;
    private const int Window = 16;           // samples per row count the trimmed mean is taken over
    private const int Rebuild = 16;          // samples between curve rebuilds
    private const int Trusted = 3;           // samples a cell needs before it outweighs what other cells suggest
    private readonly object _lock = new();
    private readonly double[][] _seconds = new double[Classes][];   // current trimmed mean per row count
    private readonly double[][] _recent = new double[Classes][];    // ring of the last Window samples per row count
    private readonly int[][] _samples = new int[Classes][];
    private readonly double[] _sort = new double[Window];
    private readonly double[]?[] _curves = new double[Classes][];
    // Curves are rebuilt into buffers that rotate per class (allocation-free once warm): a reader uses the span it got
    // within one selection, and a buffer is rewritten only two rebuilds later, at least 2 x Rebuild recorded steps on.
    private readonly double[][][] _buffers = new double[Classes][][];
    private readonly int[] _nextBuffer = new int[Classes];
    private readonly bool[] _known = new bool[MaxRows + 1];
    private readonly int[] _changes = new int[Classes];
    private bool _calibrated;

    /// <summary>Creates an empty model.</summary>
    public StepCostModel()
    {
        for (var c = 0; c < Classes; c++)
        {
            _seconds[c] = new double[MaxRows + 1];
            _recent[c] = new double[(MaxRows + 1) * Window];
            _samples[c] = new int[MaxRows + 1];
        }
    }

    /// <summary>Steps recorded so far.</summary>
    public long Samples { get; private set; }

    /// <summary>The class of a cached length: 0 up to 256 positions, then one per doubling.</summary>
    public static int LengthClass(int cachedLength) => Math.Min(Classes - 1, Math.Max(0, 32 - int.LeadingZeroCount(Math.Max(0, cachedLength - 1) >> 8)));

    /// <summary>Whether a calibration sweep (every row count a step may verify, measured once) has run.</summary>
    public bool IsCalibrated => Volatile.Read(ref _calibrated);

    internal void MarkCalibrated() => Volatile.Write(ref _calibrated, true);

    /// <summary>Records one step of <paramref name="rows"/> rows at <paramref name="cachedLength"/> cached positions that took <paramref name="seconds"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Rows below 1, or a negative or non-finite time.</exception>
    public void Record(int rows, int cachedLength, double seconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        if (!(seconds >= 0) || double.IsInfinity(seconds)) throw new ArgumentOutOfRangeException(nameof(seconds), seconds, "Must be a finite, non-negative time.");
        if (rows > MaxRows) return;
        var c = LengthClass(cachedLength);
        lock (_lock)
        {
            var n = ++_samples[c][rows];
            var ring = _recent[c].AsSpan(rows * Window, Window);
            ring[(n - 1) % Window] = seconds;
            var kept = Math.Min(n, Window);
            ring[..kept].CopyTo(_sort);
            var sorted = _sort.AsSpan(0, kept);
            sorted.Sort();
            _seconds[c][rows] = TrimmedMean(sorted);
            Samples++;
            // Rebuild the curves soon after a row count is first seen, then every few samples.
            if (n <= Trusted || ++_changes[c] >= Rebuild)
            {
                _changes[c] = 0;
                for (var k = 0; k < Classes; k++) _curves[k] = null;
            }
        }
    }

    /// <summary>The mean of ascending samples without the largest (from three samples on).</summary>
    internal static double TrimmedMean(ReadOnlySpan<double> sorted)
    {
        var n = sorted.Length >= 3 ? sorted.Length - 1 : sorted.Length;
        var sum = 0.0;
        for (var i = 0; i < n; i++) sum += sorted[i];
        return sum / n;
    }

    /// <summary>Records a step measured in <see cref="Stopwatch"/> ticks.</summary>
    internal void RecordTicks(int rows, int cachedLength, long ticks) => Record(rows, cachedLength, (double)ticks / Stopwatch.Frequency);

    /// <summary>Estimated seconds of a step of <paramref name="rows"/> rows at <paramref name="cachedLength"/>; NaN before any sample.</summary>
    public double Estimate(int rows, int cachedLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        var curve = Curve(cachedLength);
        if (curve.IsEmpty) return double.NaN;
        if (rows <= MaxRows) return curve[rows];
        var slope = curve[MaxRows] - curve[MaxRows - 1];
        return curve[MaxRows] + slope * (rows - MaxRows);
    }

    /// <summary>
    /// The estimated step time in seconds for every row count at <paramref name="cachedLength"/>: index r holds
    /// r rows (index 0 is unused), up to <see cref="MaxRows"/>; empty before any sample. The array is shared:
    /// do not write to it.
    /// </summary>
    public ReadOnlySpan<double> Curve(int cachedLength)
    {
        var c = LengthClass(cachedLength);
        var curve = Volatile.Read(ref _curves[c]);
        if (curve is not null) return curve;
        lock (_lock)
        {
            curve = _curves[c] ??= Build(c);
            return curve;
        }
    }

    /// <summary>Measured (not estimated) row counts of the class of <paramref name="cachedLength"/> with their trimmed-mean seconds and sample counts.</summary>
    public IReadOnlyList<(int Rows, double Seconds, int Samples)> Measured(int cachedLength)
    {
        var c = LengthClass(cachedLength);
        var list = new List<(int, double, int)>();
        lock (_lock)
        {
            for (var r = 1; r <= MaxRows; r++)
                if (_samples[c][r] > 0) list.Add((r, _seconds[c][r], _samples[c][r]));
        }
        return list;
    }

    private double[] Build(int c)
    {
        var any = false;
        for (var k = 0; k < Classes && !any; k++)
            for (var r = 1; r <= MaxRows && !any; r++) any = _samples[k][r] > 0;
        if (!any) return [];
        var buffers = _buffers[c] ??= [new double[MaxRows + 1], new double[MaxRows + 1], new double[MaxRows + 1]];
        var curve = buffers[_nextBuffer[c]];
        _nextBuffer[c] = (_nextBuffer[c] + 1) % buffers.Length;
        Array.Clear(curve);
        var known = _known;
        Array.Clear(known);
        for (var r = 1; r <= MaxRows; r++)
        {
            // A cell is trusted from a few samples on (one sample may be a stall); otherwise borrow the nearest
            // class's trusted cell, scaled by a row count both trust; failing both, take the cell as it is.
            if (_samples[c][r] >= Trusted)
            {
                curve[r] = _seconds[c][r];
                known[r] = true;
                continue;
            }
            for (var d = 1; d < Classes && !known[r]; d++)
            {
                for (var side = -1; side <= 1; side += 2)
                {
                    var k = c + side * d;
                    if (k < 0 || k >= Classes || _samples[k][r] < Trusted) continue;
                    curve[r] = _seconds[k][r] * Scale(c, k, r);
                    known[r] = true;
                    break;
                }
            }
            if (!known[r] && _samples[c][r] > 0)
            {
                curve[r] = _seconds[c][r];
                known[r] = true;
            }
        }
        // Interpolate the gaps linearly; beyond the last known row count, extend its slope.
        var last = -1;
        var previous = -1;
        for (var r = 1; r <= MaxRows; r++)
        {
            if (!known[r]) continue;
            if (last < 0)
            {
                for (var g = 1; g < r; g++) curve[g] = curve[r];
            }
            else
            {
                for (var g = last + 1; g < r; g++) curve[g] = curve[last] + (curve[r] - curve[last]) * (g - last) / (r - last);
            }
            previous = last;
            last = r;
        }
        if (last < 0)
        {
            // Only other classes' untrusted cells: take them as they are.
            for (var k = 0; k < Classes; k++)
                for (var r = 1; r <= MaxRows; r++)
                    if (_samples[k][r] > 0)
                    {
                        Array.Fill(curve, _seconds[k][r]);
                        return curve;
                    }
        }
        var slope = previous > 0 ? Math.Max(0, (curve[last] - curve[previous]) / (last - previous)) : curve[last] / last;
        for (var g = last + 1; g <= MaxRows; g++) curve[g] = curve[last] + slope * (g - last);
        for (var r = MaxRows - 1; r >= 1; r--) curve[r] = Math.Min(curve[r], curve[r + 1]);
        return curve;
    }

    /// <summary>Ratio of class <paramref name="c"/>'s times to class <paramref name="k"/>'s at the row count nearest <paramref name="r"/> that both measured (1 when none).</summary>
    private double Scale(int c, int k, int r)
    {
        for (var d = 0; d <= MaxRows; d++)
        {
            for (var side = -1; side <= 1; side += 2)
            {
                var m = r + side * d;
                if (m < 1 || m > MaxRows) continue;
                if (_samples[c][m] >= Trusted && _samples[k][m] >= Trusted && _seconds[k][m] > 0) return _seconds[c][m] / _seconds[k][m];
            }
        }
        return 1;
    }
}
