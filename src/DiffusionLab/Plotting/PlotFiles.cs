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

    private static ScottPlot.TickGenerators.NumericAutomatic Log10Ticks() => new()
    {
        LabelFormatter = v => Math.Pow(10, v).ToString(v >= 0 ? "#,0" : "G2", System.Globalization.CultureInfo.InvariantCulture), // 1,000 not 1E+03
        MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
        IntegerTicksOnly = true,
    };

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
