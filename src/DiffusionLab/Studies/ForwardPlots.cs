using DiffusionLab.Imaging;
using DiffusionLab.Schedules;
using ScottPlot;
using SkiaSharp;
using DiffusionLab.Plotting;

namespace DiffusionLab.Studies;

/// <summary>Pictures of the forward process: a strip of x_t, pixel histograms against N(0, 1), and structure curves.</summary>
public static class ForwardPlots
{
    /// <summary>One row per schedule, one column per step: x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε with the same ε everywhere.</summary>
    public static void WriteStrip(Tensor x0, Tensor noise, IReadOnlyList<NoiseSchedule> schedules, IReadOnlyList<int> steps, string path)
    {
        var rows = new List<IReadOnlyList<SKBitmap>>();
        foreach (var s in schedules)
        {
            var row = new List<SKBitmap>();
            foreach (var t in steps)
            {
                using var scope = torch.NewDisposeScope();
                row.Add(ImageTensor.ToBitmap(ForwardProcess.Sample(s, x0, t, noise)));
            }
            rows.Add(row);
        }
        int scale = Math.Max(1, 96 / (int)x0.shape[2]);
        using var grid = ImageGrid.Compose(rows, schedules.Select(s => s.Name).ToList(), steps.Select(t => $"t={t}").ToList(), scale);
        ImageTensor.SavePng(grid, path);
        foreach (var r in rows) foreach (var b in r) b.Dispose();
    }

    /// <summary>Histograms of the pixel values of x_t at the chosen steps, each with the N(0, 1) density drawn over it.</summary>
    public static void WriteHistograms(Tensor x0, Tensor noise, IReadOnlyList<NoiseSchedule> schedules, IReadOnlyList<int> steps, string path)
    {
        const int bins = 40;
        const double lo = -4, hi = 4, width = (hi - lo) / bins;
        var gx = Enumerable.Range(0, 161).Select(i => lo + i * (hi - lo) / 160).ToArray();
        var gy = gx.Select(x => Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI)).ToArray();
        var rows = new List<IReadOnlyList<SKBitmap>>();
        for (int si = 0; si < schedules.Count; si++)
        {
            var s = schedules[si];
            var row = new List<SKBitmap>();
            foreach (var t in steps)
            {
                double[] values;
                using (var scope = torch.NewDisposeScope())
                    values = ForwardProcess.Sample(s, x0, t, noise).flatten().to_type(ScalarType.Float64).data<double>().ToArray();
                var density = new double[bins];
                foreach (var v in values)
                {
                    int b = (int)Math.Floor((v - lo) / width);
                    if (b >= 0 && b < bins) density[b] += 1.0 / (values.Length * width);
                }
                var plot = new Plot();
                var bars = plot.Add.Bars(Enumerable.Range(0, bins).Select(b => lo + (b + 0.5) * width).ToArray(), density);
                foreach (var bar in bars.Bars) { bar.Size = width; bar.LineWidth = 0; bar.FillColor = PlotFiles.SeriesColor(si).WithAlpha(0.6); }
                var normal = plot.Add.ScatterLine(gx, gy, Colors.Black);
                normal.LineWidth = 1.5f;
                plot.Title($"{s.Name}, t={t}", size: 12);
                plot.Axes.SetLimits(lo, hi, 0, Math.Max(0.45, density.Max() * 1.05));
                row.Add(PlotFiles.ToBitmap(plot, 240, 180));
            }
            rows.Add(row);
        }
        using var grid = ImageGrid.Compose(rows, gap: 0);
        ImageTensor.SavePng(grid, path);
        foreach (var r in rows) foreach (var b in r) b.Dispose();
    }

    /// <summary>Correlation with x_0 and normalised patch distance to N(0, I) against t/T, with the thresholds dashed.</summary>
    public static void WriteStructureCurves(IReadOnlyList<ScheduleStructure> results, ForwardAnalysisOptions options, string path)
    {
        double[] Tau(ScheduleStructure r) => r.Points.Select(p => (double)p.Step / r.Schedule.Steps).ToArray();
        var corr = PlotFiles.Lines("Correlation of x_t with x_0", "t / T", "corr(x_t, x_0)",
            results.Select(r => (r.Name, Tau(r), r.Points.Select(p => p.Correlation).ToArray())));
        corr.Add.HorizontalLine(options.CorrelationThreshold, 1, Colors.Gray, LinePattern.Dashed);
        var sw = PlotFiles.Lines("Structure left: patch distance to N(0, I)", "t / T", "normalised sliced W1 (1 = x_0, 0 = noise)",
            results.Select(r => (r.Name, Tau(r), r.Points.Select(p => p.Structure).ToArray())));
        sw.Add.HorizontalLine(options.StructureThreshold, 1, Colors.Gray, LinePattern.Dashed);
        using var a = PlotFiles.ToBitmap(corr, 600, 420);
        using var b = PlotFiles.ToBitmap(sw, 600, 420);
        using var grid = ImageGrid.Compose([[a, b]], gap: 0);
        ImageTensor.SavePng(grid, path);
    }
}
