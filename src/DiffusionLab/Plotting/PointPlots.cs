using ScottPlot;

namespace DiffusionLab.Plotting;

/// <summary>Scatter plots of 2-D point sets: generated samples drawn over the data they should match.</summary>
public static class PointPlots
{
    public static Plot Scatter(string title, Tensor? data, Tensor samples, double limit = 5)
    {
        var plot = new Plot();
        if (data is not null) AddPoints(plot, data, Colors.Gray.WithAlpha(0.35), "data");
        AddPoints(plot, samples, PlotFiles.SeriesColor(0).WithAlpha(0.6), "samples");
        plot.Title(title);
        plot.Axes.SetLimits(-limit, limit, -limit, limit);
        plot.Axes.SquareUnits();
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    public static void SaveScatter(string path, string title, Tensor? data, Tensor samples, double limit = 5) =>
        PlotFiles.SavePng(Scatter(title, data, samples, limit), path, 600, 600);

    /// <summary>
    /// Where points travel while sampling: the first <paramref name="paths"/> trajectories of <paramref name="states"/> (each
    /// [N, 2], in order) as lines from their start to their end, drawn over the data the ends should match and over the
    /// start and end of at most 2,000 points (more would hide the lines).
    /// </summary>
    public static void SavePaths(string path, string title, Tensor? data, IReadOnlyList<Tensor> states, int paths = 64, double limit = 5)
    {
        if (states.Count < 2) throw new ArgumentException("a trajectory needs at least two states");
        const int shown = 2000;
        var plot = new Plot();
        if (data is not null) AddPoints(plot, data.narrow(0, 0, Math.Min(shown, data.shape[0])), Colors.Gray.WithAlpha(0.25), "data");
        AddPoints(plot, states[0].narrow(0, 0, Math.Min(shown, states[0].shape[0])), PlotFiles.SeriesColor(2).WithAlpha(0.35), "start");
        AddPoints(plot, states[^1].narrow(0, 0, Math.Min(shown, states[^1].shape[0])), PlotFiles.SeriesColor(0).WithAlpha(0.45), "end");
        var xy = states.Select(s => s.detach().cpu().to_type(ScalarType.Float64).data<double>().ToArray()).ToList();
        int n = Math.Min(paths, xy[0].Length / 2);
        for (int p = 0; p < n; p++)
        {
            var line = plot.Add.ScatterLine(xy.Select(v => v[2 * p]).ToArray(), xy.Select(v => v[2 * p + 1]).ToArray(), Colors.Black.WithAlpha(0.6));
            line.LineWidth = 1.2f;
            line.MarkerSize = 0;
        }
        plot.Title(title);
        plot.Axes.SetLimits(-limit, limit, -limit, limit);
        plot.Axes.SquareUnits();
        plot.ShowLegend(Alignment.UpperRight);
        PlotFiles.SavePng(plot, path, 600, 600);
    }

    private static void AddPoints(Plot plot, Tensor points, Color color, string label)
    {
        if (points.dim() != 2 || points.shape[1] != 2) throw new ArgumentException("expected points [N, 2]");
        var v = points.detach().cpu().to_type(ScalarType.Float64).data<double>().ToArray();
        var xs = new double[v.Length / 2];
        var ys = new double[v.Length / 2];
        for (int i = 0; i < xs.Length; i++) { xs[i] = v[2 * i]; ys[i] = v[2 * i + 1]; }
        var s = plot.Add.ScatterPoints(xs, ys, color);
        s.MarkerSize = 3;
        s.LegendText = label;
    }
}
