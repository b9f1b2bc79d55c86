using DiffusionLab.Data;
using DiffusionLab.Imaging;
using DiffusionLab.Sde;
using ScottPlot;
using SkiaSharp;

namespace DiffusionLab.Plotting;

/// <summary>The score-SDE assignment's SDE graphs: mean coefficient and std of the perturbation kernel over t, and the marginal at T vs the prior.</summary>
public static class SdePlots
{
    public static IReadOnlyList<string> Write(IReadOnlyList<ISde> sdes, string dataset, long seed, string dir)
    {
        Directory.CreateDirectory(dir);
        var files = new List<string>();
        var series = (Func<ISde, Tensor, Tensor> f) => sdes.Select(s =>
        {
            var ts = Enumerable.Range(0, 201).Select(i => s.EndTime * i / 200.0).ToArray();
            using var t = torch.tensor(ts, dtype: ScalarType.Float64);
            using var v = f(s, t);
            return (s.Name, ts.Select(x => x / s.EndTime).ToArray(), v.data<double>().ToArray());
        }).ToList();
        var mean = PlotFiles.Lines("Mean coefficient α(t): E[x_t | x_0] = α(t) x_0", "t / T", "α(t)", series((s, t) => s.MeanCoefficient(t)));
        var std = PlotFiles.Lines("Std σ(t) of x_t | x_0", "t / T", "σ(t) (log scale)", series((s, t) => s.MarginalStd(t).clamp_min(1e-6).log10()));
        PlotFiles.UseLog10LeftAxis(std);
        std.ShowLegend(Alignment.LowerRight);
        foreach (var (plot, name) in new[] { (mean, "sde_mean.png"), (std, "sde_std.png") })
        {
            var path = Path.Combine(dir, name);
            PlotFiles.SavePng(plot, path, 700, 450);
            files.Add(path);
        }

        // The forward marginal at T: x_T = α(T) x_0 + σ(T) ε for data x_0, against a prior sample (first coordinate).
        using var x0 = ToyDatasets.Sample(dataset, 20_000, seed).to_type(ScalarType.Float64);
        var panels = new List<SKBitmap>();
        var g = TensorOps.SeededGenerator(seed);
        foreach (var (s, i) in sdes.Select((s, i) => (s, i)))
        {
            using var scope = torch.NewDisposeScope();
            var t = torch.full(x0.shape[0], s.EndTime, dtype: ScalarType.Float64);
            var xT = s.PerturbSample(x0, t, torch.randn(x0.shape, generator: g, dtype: ScalarType.Float64));
            var prior = s.PriorSample(x0.shape, g).to_type(ScalarType.Float64);
            var a = xT[.., 0].data<double>().ToArray();
            var b = prior[.., 0].data<double>().ToArray();
            double lim = 4 * Math.Max(StdDev(b), 1e-9);
            var plot = new Plot();
            AddHistogram(plot, a, -lim, lim, PlotFiles.SeriesColor(i).WithAlpha(0.5), "x_T from data");
            AddHistogram(plot, b, -lim, lim, Colors.Black.WithAlpha(0.25), "prior");
            plot.Title($"{s.Name}: marginal at T vs prior");
            plot.ShowLegend(Alignment.UpperRight);
            panels.Add(PlotFiles.ToBitmap(plot, 420, 320));
        }
        var hist = Path.Combine(dir, "sde_marginal_vs_prior.png");
        using (var grid = ImageGrid.Compose([panels], gap: 0)) ImageTensor.SavePng(grid, hist);
        foreach (var p in panels) p.Dispose();
        files.Add(hist);
        return files;
    }

    private static double StdDev(double[] v)
    {
        double m = v.Average();
        return Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / v.Length);
    }

    private static void AddHistogram(Plot plot, double[] values, double lo, double hi, Color color, string label)
    {
        const int bins = 50;
        double width = (hi - lo) / bins;
        var density = new double[bins];
        foreach (var v in values)
        {
            int k = (int)Math.Floor((v - lo) / width);
            if (k >= 0 && k < bins) density[k] += 1.0 / (values.Length * width);
        }
        var bars = plot.Add.Bars(Enumerable.Range(0, bins).Select(k => lo + (k + 0.5) * width).ToArray(), density);
        foreach (var bar in bars.Bars) { bar.Size = width; bar.LineWidth = 0; bar.FillColor = color; }
        bars.LegendText = label;
    }
}
