using DiffusionLab.Plotting;
using ImageMagick;
using static TorchSharp.torch;

namespace DiffusionLab.Plotting;

/// <summary>Animated GIFs: frames of PNG bytes, or a 2-D sampling trajectory drawn as scatter plots over the data.</summary>
public static class PointGif
{
    /// <summary>Writes PNG-encoded frames as a looping GIF (Magick.NET), atomically; the last frame is held longer.</summary>
    public static void WriteFrames(string path, IReadOnlyList<byte[]> pngFrames, int delayCentiseconds = 8)
    {
        if (pngFrames.Count == 0) throw new ArgumentException("no frames");
        using var collection = new MagickImageCollection();
        for (int i = 0; i < pngFrames.Count; i++)
        {
            var image = new MagickImage(pngFrames[i]);
            image.AnimationDelay = (uint)(i == pngFrames.Count - 1 ? 150 : delayCentiseconds);
            collection.Add(image);
        }
        collection[0].AnimationIterations = 0;
        collection.Optimize();
        AtomicFile.Write(path, stream => collection.Write(stream, MagickFormat.Gif));
    }

    /// <summary>A GIF of a 2-D trajectory: at most <paramref name="maxFrames"/> evenly spaced states, each over the data.</summary>
    public static void Write(string path, IReadOnlyList<Tensor> states, Tensor? data, int maxFrames = 40)
    {
        if (states.Count == 0) throw new ArgumentException("no states");
        var picks = Enumerable.Range(0, maxFrames).Select(k => (int)Math.Round((double)k * (states.Count - 1) / Math.Max(maxFrames - 1, 1))).Distinct();
        var frames = picks.Select(i => PointPlots.Scatter($"step {i + 1} of {states.Count}", data, states[i]).GetImageBytes(420, 420, ScottPlot.ImageFormat.Png)).ToList();
        WriteFrames(path, frames);
    }
}
