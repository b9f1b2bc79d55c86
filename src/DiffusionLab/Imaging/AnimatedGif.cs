using ImageMagick;

namespace DiffusionLab.Imaging;

/// <summary>Looping GIFs from PNG frames (Magick.NET), written atomically.</summary>
public static class AnimatedGif
{
    /// <summary>Writes PNG-encoded frames as a looping GIF (Magick.NET), atomically; the last frame is held longer.</summary>
    public static void Write(string path, IReadOnlyList<byte[]> pngFrames, int delayCentiseconds = 8)
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
}
