using System.Globalization;
using System.Text;

namespace Rest.Onnx.Bench.Reporting;

/// <summary>Minimal grouped bar charts as standalone SVG (no dependencies, readable in any browser).</summary>
internal static class SvgChart
{
    private static readonly string[] Palette = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860"];

    /// <summary>One panel of grouped bars: a value per category for each series.</summary>
    public sealed record Panel(string Title, string YLabel, IReadOnlyList<string> Categories,
        IReadOnlyList<(string Name, IReadOnlyList<double> Values)> Series, double? ReferenceLine = null);

    /// <summary>Renders panels stacked vertically into one SVG document.</summary>
    public static string Render(IReadOnlyList<Panel> panels, int width = 1000, int panelHeight = 320)
    {
        var sb = new StringBuilder();
        var height = panels.Count * panelHeight;
        sb.Append(CultureInfo.InvariantCulture,
            $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        sb.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        for (var p = 0; p < panels.Count; p++) RenderPanel(sb, panels[p], 0, p * panelHeight, width, panelHeight);
        sb.Append("</svg>\n");
        return sb.ToString();
    }

    private static void RenderPanel(StringBuilder sb, Panel panel, int x0, int y0, int width, int height)
    {
        const int left = 60, right = 220, top = 30, bottom = 40;
        var plotW = width - left - right;
        var plotH = height - top - bottom;
        var max = 0.0;
        foreach (var (_, values) in panel.Series)
            foreach (var v in values) max = Math.Max(max, v);
        if (panel.ReferenceLine is { } r) max = Math.Max(max, r);
        max = max <= 0 ? 1 : NiceCeiling(max);

        string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x0 + left}\" y=\"{y0 + 18}\" font-size=\"14\" font-weight=\"bold\">{Escape(panel.Title)}</text>\n");
        sb.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate({x0 + 14},{y0 + top + plotH / 2}) rotate(-90)\" text-anchor=\"middle\">{Escape(panel.YLabel)}</text>\n");
        for (var t = 0; t <= 4; t++)
        {
            var value = max * t / 4;
            var y = y0 + top + plotH - plotH * t / 4.0;
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x0 + left}\" x2=\"{x0 + left + plotW}\" y1=\"{F(y)}\" y2=\"{F(y)}\" stroke=\"#ddd\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x0 + left - 4}\" y=\"{F(y + 4)}\" text-anchor=\"end\">{F(value)}</text>\n");
        }

        var groups = Math.Max(1, panel.Categories.Count);
        var groupW = plotW / (double)groups;
        var barW = groupW * 0.8 / Math.Max(1, panel.Series.Count);
        for (var s = 0; s < panel.Series.Count; s++)
        {
            var (_, values) = panel.Series[s];
            for (var c = 0; c < values.Count && c < groups; c++)
            {
                var h = plotH * values[c] / max;
                var x = x0 + left + c * groupW + groupW * 0.1 + s * barW;
                var y = y0 + top + plotH - h;
                sb.Append(CultureInfo.InvariantCulture,
                    $"<rect x=\"{F(x)}\" y=\"{F(y)}\" width=\"{F(Math.Max(barW - 0.5, 0.5))}\" height=\"{F(h)}\" fill=\"{Palette[s % Palette.Length]}\"><title>{Escape(panel.Categories[c])}: {F(values[c])}</title></rect>");
            }
            sb.Append('\n');
        }
        if (panel.ReferenceLine is { } line)
        {
            var y = y0 + top + plotH - plotH * line / max;
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x0 + left}\" x2=\"{x0 + left + plotW}\" y1=\"{F(y)}\" y2=\"{F(y)}\" stroke=\"black\" stroke-dasharray=\"4 3\"/>\n");
        }
        // Label at most ~40 categories so the axis stays readable.
        var step = Math.Max(1, groups / 40);
        for (var c = 0; c < panel.Categories.Count; c += step)
        {
            var x = x0 + left + c * groupW + groupW / 2;
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(x)}\" y=\"{y0 + top + plotH + 14}\" text-anchor=\"middle\">{Escape(panel.Categories[c])}</text>");
        }
        sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x0 + left}\" x2=\"{x0 + left + plotW}\" y1=\"{y0 + top + plotH}\" y2=\"{y0 + top + plotH}\" stroke=\"black\"/>\n");
        for (var s = 0; s < panel.Series.Count; s++)
        {
            var ly = y0 + top + 10 + s * 16;
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{x0 + left + plotW + 12}\" y=\"{ly - 9}\" width=\"10\" height=\"10\" fill=\"{Palette[s % Palette.Length]}\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x0 + left + plotW + 26}\" y=\"{ly}\">{Escape(panel.Series[s].Name)}</text>\n");
        }
    }

    private static double NiceCeiling(double v)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(v)));
        foreach (var m in new[] { 1.0, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10 })
            if (m * magnitude >= v) return m * magnitude;
        return 10 * magnitude;
    }

    private static string Escape(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
