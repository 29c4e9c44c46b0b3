namespace Rest.Onnx.DemoModel.Corpus;

/// <summary>The process's peak resident memory, as Linux counts it (VmHWM in /proc/self/status): what a build really held, native memory included.</summary>
public static class ProcessMemory
{
    /// <summary>Peak resident set size in bytes since the start (or the last <see cref="ResetPeak"/>); 0 where /proc is not there.</summary>
    public static long PeakResidentBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
                var kb = line["VmHWM:".Length..].Trim().Split(' ')[0];
                return long.Parse(kb, System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        return 0;
    }

    /// <summary>Resets the peak to the current resident size (Linux: 5 into /proc/self/clear_refs), so the next build's peak is its own; false where that is not allowed.</summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }
}
