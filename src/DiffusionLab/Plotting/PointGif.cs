
namespace DiffusionLab.Plotting;

/// <summary>A 2-D sampling trajectory as an animated GIF of scatter plots over the data.</summary>
public static class PointGif
{
    /// <summary>A GIF of a 2-D trajectory: at most <paramref name="maxFrames"/> evenly spaced states (state 0 is the start,
    /// state i the points after step i), each over the data.</summary>
    public static void Write(string path, IReadOnlyList<Tensor> states, Tensor? data, int maxFrames = 40)
    {
        if (states.Count == 0) throw new ArgumentException("no states");
        var picks = Enumerable.Range(0, maxFrames).Select(k => (int)Math.Round((double)k * (states.Count - 1) / Math.Max(maxFrames - 1, 1))).Distinct();
        var frames = picks.Select(i => PointPlots.Scatter(i == 0 ? "start" : $"step {i} of {states.Count - 1}", data, states[i]).GetImageBytes(420, 420, ScottPlot.ImageFormat.Png)).ToList();
        Imaging.AnimatedGif.Write(path, frames);
    }
}
