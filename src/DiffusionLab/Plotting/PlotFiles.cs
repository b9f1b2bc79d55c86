using ScottPlot;
using SkiaSharp;

namespace DiffusionLab.Plotting;

/// <summary>Renders ScottPlot plots to PNG files (atomically) or to bitmaps for composing into grids.</summary>
public static class PlotFiles
{
    public static void SavePng(Plot plot, string path, int width = 800, int height = 500) =>
        AtomicFile.WriteAllBytes(path, plot.GetImageBytes(width, height, ImageFormat.Png));

    public static SKBitmap ToBitmap(Plot plot, int width, int height) =>
        SKBitmap.Decode(plot.GetImageBytes(width, height, ImageFormat.Png));

    /// <summary>The same colour for the same series index in every chart of a run.</summary>
    public static Color SeriesColor(int index) => new ScottPlot.Palettes.Category10().GetColor(index);

    /// <summary>A line plot of several named series sharing one x-axis.</summary>
    public static Plot Lines(string title, string xLabel, string yLabel, IEnumerable<(string Name, double[] X, double[] Y)> series)
    {
        var plot = new Plot();
        int i = 0;
        foreach (var (name, x, y) in series)
        {
            var line = plot.Add.ScatterLine(x, y, SeriesColor(i++));
            line.LegendText = name;
            line.LineWidth = 2;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    /// <summary>Makes the left axis show 10^y labels for data that was plotted as log10(y).</summary>
    public static void UseLog10LeftAxis(Plot plot) => plot.Axes.Left.TickGenerator = Log10Ticks();

    /// <summary>Makes the bottom axis show 10^x labels for data that was plotted as log10(x).</summary>
    public static void UseLog10BottomAxis(Plot plot) => plot.Axes.Bottom.TickGenerator = Log10Ticks();

    private static Log10TickGenerator Log10Ticks() => new();

    /// <summary>Whole-number ticks only, for axes that count steps or epochs (no "2.5 steps").</summary>
    public static void UseIntegerBottomAxis(Plot plot) =>
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };

    /// <summary>Lines on log–log axes (the data are plotted as log10 and labelled as 10^v).</summary>
    public static Plot LogLogLines(string title, string xLabel, string yLabel, IEnumerable<(string Name, double[] X, double[] Y)> series)
    {
        var plot = Lines(title, xLabel + " (log scale)", yLabel + " (log scale)",
            series.Select(s => (s.Name, s.X.Select(Math.Log10).ToArray(), s.Y.Select(y => Math.Log10(Math.Max(y, 1e-12))).ToArray())));
        UseLog10LeftAxis(plot);
        UseLog10BottomAxis(plot);
        return plot;
    }
}

/// <summary>
/// Ticks for data plotted as log10(v) and labelled with v: labelled powers of ten with unlabelled 2…9 between them when the
/// axis spans a decade or more (1, 2 and 5 labelled too when fewer than two powers of ten are in view); within one
/// decade, where a powers-of-ten-only axis shows no label at all, "nice" 1–2–5 steps of v itself.
/// </summary>
public sealed class Log10TickGenerator : ITickGenerator
{
    public Tick[] Ticks { get; set; } = [];
    public int MaxTickCount { get; set; } = 10_000;

    public void Regenerate(CoordinateRange range, Edge edge, PixelLength size, Paint paint, LabelStyle labelStyle) =>
        Ticks = Generate(Math.Min(range.Min, range.Max), Math.Max(range.Min, range.Max));

    /// <summary>The ticks for a view from log10 value <paramref name="low"/> to <paramref name="high"/>.</summary>
    public static Tick[] Generate(double low, double high)
    {
        if (!double.IsFinite(low) || !double.IsFinite(high) || high <= low) return [];
        var ticks = new List<Tick>();
        if (high - low >= 1)
        {
            int first = (int)Math.Floor(low), last = (int)Math.Ceiling(high);
            int powers = Enumerable.Range(first, last - first + 1).Count(k => k >= low && k <= high);
            int stride = Math.Max(1, (int)Math.Ceiling((last - first) / 8.0)); // at most ~8 labelled decades
            for (int k = first; k <= last; k++)
                for (int m = 1; m <= 9; m++)
                {
                    double position = k + Math.Log10(m);
                    if (position < low || position > high) continue;
                    bool label = m == 1 ? (k - first) % stride == 0 : powers < 2 && m is 2 or 5;
                    ticks.Add(new Tick(position, label ? Format(m * Math.Pow(10, k)) : "", label));
                }
            return ticks.ToArray();
        }
        // within a decade: linear steps of 1, 2 or 5 × 10^k between 10^low and 10^high, about five of them
        double vLow = Math.Pow(10, low), vHigh = Math.Pow(10, high), raw = (vHigh - vLow) / 5;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2.0, 5.0, 10.0 }.Select(f => f * magnitude).First(x => x >= raw);
        for (double v = Math.Ceiling(vLow / step) * step; v <= vHigh * (1 + 1e-12); v += step)
            ticks.Add(new Tick(Math.Log10(v), Format(v), true));
        return ticks.ToArray();
    }

    // 1,000 rather than 1E+03; small values with the digits the step needs
    private static string Format(double v) =>
        v >= 1 ? v.ToString("#,0.###", System.Globalization.CultureInfo.InvariantCulture) : v.ToString("G3", System.Globalization.CultureInfo.InvariantCulture);
}
