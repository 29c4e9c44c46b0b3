using System.Diagnostics;
using System.Globalization;

namespace Rest.Onnx.CommandLine;

/// <summary>
/// A progress bar for long work on a text writer (the tools use stderr). On a terminal it redraws one line in place;
/// when the writer is a file or pipe (logs, tests) it writes a line at every tenth of the way and at the end, so logs
/// stay short. A bar without a total (work of unknown length, e.g. one suffix-array sort) shows the elapsed time,
/// refreshed every second on a terminal and every 15 s in a log. Thread-safe; <see cref="Dispose"/> ends the line.
/// </summary>
public sealed class ProgressBar : IDisposable
{
    private const int Width = 28;
    private readonly TextWriter _writer;
    private readonly string _label;
    private readonly string _unit;
    private readonly bool _interactive;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Timer _ticker;
    private readonly Lock _gate = new();
    private long _total;
    private long _done;
    private string _detail = "";
    private int _lastTenth = -1;
    private long _lastDrawMs = -1000;
    private bool _finished;

    /// <param name="writer">Where the bar goes.</param>
    /// <param name="label">What is being done, e.g. <c>download</c>.</param>
    /// <param name="total">Units of work in all; 0 or less for work of unknown length (elapsed time only).</param>
    /// <param name="unit">Name of a unit, e.g. <c>packages</c> or <c>tokens</c>.</param>
    /// <param name="interactive">Redraw in place; null = when <paramref name="writer"/> is the console's stderr and that is a terminal.</param>
    public ProgressBar(TextWriter writer, string label, long total, string unit, bool? interactive = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        _writer = writer;
        _label = label;
        _total = total;
        _unit = unit;
        _interactive = interactive ?? (ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected);
        var tick = TimeSpan.FromSeconds(_interactive ? 1 : 15);
        _ticker = new Timer(_ => Tick(), null, tick, tick);
        Draw(force: true);
    }

    /// <summary>Time since the bar was created.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Sets the units done so far (and optionally the total, when it becomes known, and a short detail shown after the bar).</summary>
    public void Report(long done, string? detail = null, long? total = null)
    {
        lock (_gate)
        {
            if (_finished) return;
            _done = done;
            if (total is { } t) _total = t;
            if (detail is not null) _detail = detail;
            Draw(force: false);
        }
    }

    /// <summary>Draws the final state and ends the line; later reports are ignored.</summary>
    public void Complete(string? detail = null)
    {
        lock (_gate)
        {
            if (_finished) return;
            if (detail is not null) _detail = detail;
            if (_total > 0) _done = Math.Max(_done, _total);
            _finished = true;
            _ticker.Dispose();
            Write(Render());
            if (_interactive) _writer.WriteLine();
            _writer.Flush();
        }
    }

    /// <summary>Completes the bar if it is not complete yet.</summary>
    public void Dispose() => Complete();

    private void Tick()
    {
        lock (_gate)
        {
            if (_finished) return;
            // Unknown length: the elapsed time is the only news. Known length: redraw the clock on a terminal only.
            if (_interactive || _total <= 0) Write(Render());
        }
    }

    private void Draw(bool force)
    {
        var now = _clock.ElapsedMilliseconds;
        if (_interactive)
        {
            if (!force && now - _lastDrawMs < 200) return;
            _lastDrawMs = now;
            Write(Render());
            return;
        }
        var tenth = _total > 0 ? (int)Math.Min(10, _done * 10 / _total) : 0;
        if (!force && tenth == _lastTenth) return;
        _lastTenth = tenth;
        Write(Render());
    }

    private void Write(string line)
    {
        if (_interactive) _writer.Write("\r" + line.PadRight(Math.Min(200, line.Length + 8)));
        else _writer.WriteLine(line);
        _writer.Flush();
    }

    private string Render()
    {
        var inv = CultureInfo.InvariantCulture;
        var elapsed = _clock.Elapsed;
        var clock = elapsed.TotalHours >= 1 ? elapsed.ToString(@"h\:mm\:ss", inv) : elapsed.ToString(@"mm\:ss", inv);
        var detail = _detail.Length > 0 ? "  " + _detail : "";
        if (_total <= 0)
            return string.Create(inv, $"{_label,-14} [{new string('.', Width)}] {(_done > 0 ? $"{_done:N0} " : "")}{_unit}  {clock}{detail}");
        var share = Math.Clamp((double)_done / _total, 0, 1);
        var filled = (int)(share * Width);
        return string.Create(inv,
            $"{_label,-14} [{new string('#', filled)}{new string('-', Width - filled)}] {share * 100,3:F0}% {_done:N0}/{_total:N0} {_unit}  {clock}{detail}");
    }
}
