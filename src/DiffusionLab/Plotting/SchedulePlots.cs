using DiffusionLab.Imaging;
using DiffusionLab.Schedules;
using SkiaSharp;

namespace DiffusionLab.Plotting;

/// <summary>The schedule comparison charts: β_t, ᾱ_t and log-SNR against t/T.</summary>
public static class SchedulePlots
{
    /// <summary>Lowest log-SNR drawn; a zero-terminal-SNR schedule reaches −∞ at t = T.</summary>
    public const double LogSnrFloor = -20;

    /// <summary>Writes beta.png, alpha_bar.png, log_snr.png and schedules.png (all three side by side) into <paramref name="dir"/>.</summary>
    public static IReadOnlyList<string> Write(IReadOnlyList<NoiseSchedule> schedules, string dir)
    {
        var tau = (NoiseSchedule s) => Enumerable.Range(1, s.Steps).Select(t => (double)t / s.Steps).ToArray();
        var values = (NoiseSchedule s, Func<int, double> f) => Enumerable.Range(1, s.Steps).Select(f).ToArray();

        var beta = PlotFiles.Lines("Noise schedule β_t", "t / T", "β_t (log scale)",
            schedules.Select(s => (s.Name, tau(s), values(s, t => Math.Log10(s.Beta(t))))));
        PlotFiles.UseLog10LeftAxis(beta);
        beta.ShowLegend(ScottPlot.Alignment.LowerRight);

        var alphaBar = PlotFiles.Lines("Signal kept: ᾱ_t", "t / T", "ᾱ_t",
            schedules.Select(s => (s.Name, tau(s), values(s, s.AlphaBar))));
        alphaBar.Axes.SetLimitsY(-0.02, 1.02);

        var logSnr = PlotFiles.Lines("log SNR(t) = log ᾱ_t / (1 − ᾱ_t)", "t / T", "log SNR",
            schedules.Select(s => (s.Name, tau(s), values(s, t => Math.Max(s.LogSnr(t), LogSnrFloor)))));
        logSnr.Add.HorizontalLine(0, 1, ScottPlot.Colors.Gray, ScottPlot.LinePattern.Dashed);

        var files = new List<string>();
        var panels = new List<SKBitmap>();
        foreach (var (plot, file) in new[] { (beta, "beta.png"), (alphaBar, "alpha_bar.png"), (logSnr, "log_snr.png") })
        {
            var path = Path.Combine(dir, file);
            PlotFiles.SavePng(plot, path, 700, 450);
            files.Add(path);
            panels.Add(PlotFiles.ToBitmap(plot, 560, 380));
        }
        using (var all = ImageGrid.Compose([panels], gap: 0))
        {
            var path = Path.Combine(dir, "schedules.png");
            ImageTensor.SavePng(all, path);
            files.Add(path);
        }
        foreach (var p in panels) p.Dispose();
        return files;
    }
}
