using SkiaSharp;

namespace DiffusionLab.Imaging;

/// <summary>
/// Conversions between image files / bitmaps and tensors. Tensors are float32 [C, H, W] with values in
/// [−1, 1] (the data scaling of Ho et al. 2020, §4), C = 3 for RGB or 1 for grayscale.
/// </summary>
public static class ImageTensor
{
    /// <summary>Loads a PNG/JPEG/… file as [C, H, W] in [−1, 1]; <paramref name="channels"/> is 3 (RGB) or 1 (gray).</summary>
    public static Tensor Load(string path, int channels = 3)
    {
        using var bitmap = Decode(path);
        return FromBitmap(bitmap, channels);
    }

    /// <summary>
    /// Decodes an image file as <c>SKBitmap.Decode</c> does (premultiplied alpha, no colour space), except that a file
    /// that ends early is an error naming it: Skia would return it with its missing rows filled black, and those black
    /// rows would then be trained on or scored.
    /// </summary>
    public static SKBitmap Decode(string path)
    {
        if (!File.Exists(path)) throw new DiffusionLabException($"image not found: {path}");
        using var codec = SKCodec.Create(path)
            ?? throw new DiffusionLabException($"cannot decode image {path} (expected PNG, JPEG, GIF, BMP or WEBP)");
        var info = codec.Info;
        if (info.AlphaType == SKAlphaType.Unpremul) info.AlphaType = SKAlphaType.Premul;
        info.ColorSpace = null;
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(bitmap.Info, bitmap.GetPixels());
        if (result == SKCodecResult.Success) return bitmap;
        bitmap.Dispose();
        throw new DiffusionLabException(result is SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput
            ? $"image {path} is truncated or damaged: only part of it decodes (the rest would read as black rows); re-create or remove it"
            : $"cannot decode image {path} ({result})");
    }

    /// <summary>Converts a bitmap to [C, H, W] in [−1, 1].</summary>
    public static Tensor FromBitmap(SKBitmap bitmap, int channels = 3)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), "1 or 3");
        using var rgba = bitmap.ColorType == SKColorType.Rgba8888 ? null : bitmap.Copy(SKColorType.Rgba8888);
        var src = rgba ?? bitmap;
        int w = src.Width, h = src.Height;
        var bytes = src.GetPixelSpan();
        var data = new float[channels * h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int p = (y * w + x) * 4;
                if (channels == 3)
                    for (int c = 0; c < 3; c++) data[c * h * w + y * w + x] = bytes[p + c] / 127.5f - 1f;
                else // ITU-R BT.601 luma
                    data[y * w + x] = (0.299f * bytes[p] + 0.587f * bytes[p + 1] + 0.114f * bytes[p + 2]) / 127.5f - 1f;
            }
        return torch.tensor(data, new long[] { channels, h, w });
    }

    /// <summary>8-bit pixels of the given shape as float32 in [−1, 1] (x/127.5 − 1), the scaling of every image tensor here.</summary>
    public static Tensor FromBytes(byte[] pixels, long[] shape)
    {
        using var bytes = torch.tensor(pixels, shape);
        return bytes.to_type(ScalarType.Float32).div_(127.5f).sub_(1f);
    }

    /// <summary>Writes a bitmap's pixels as planar 8-bit [C, H, W] (C = 3 RGB, or 1 luma) into <paramref name="destination"/>.</summary>
    public static void CopyBytes(SKBitmap bitmap, int channels, Span<byte> destination)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), "1 or 3");
        using var rgba = bitmap.ColorType == SKColorType.Rgba8888 ? null : bitmap.Copy(SKColorType.Rgba8888);
        var src = rgba ?? bitmap;
        int n = src.Width * src.Height;
        if (destination.Length != channels * n) throw new ArgumentException("destination size does not match the bitmap");
        var bytes = src.GetPixelSpan();
        for (int i = 0; i < n; i++)
        {
            int p = 4 * i;
            if (channels == 3) { destination[i] = bytes[p]; destination[n + i] = bytes[p + 1]; destination[2 * n + i] = bytes[p + 2]; }
            else destination[i] = (byte)Math.Round(0.299 * bytes[p] + 0.587 * bytes[p + 1] + 0.114 * bytes[p + 2]); // ITU-R BT.601 luma
        }
    }

    /// <summary>Converts [C, H, W] (or [H, W]) in [−1, 1] to an RGBA bitmap, clipping out-of-range values.</summary>
    public static SKBitmap ToBitmap(Tensor image)
    {
        using var scope = torch.NewDisposeScope();
        var x = image.dim() == 2 ? image.unsqueeze(0) : image;
        if (x.dim() != 3 || (x.shape[0] != 1 && x.shape[0] != 3))
            throw new ArgumentException($"expected [C, H, W] with C = 1 or 3, got [{string.Join(", ", image.shape)}]");
        int c = (int)x.shape[0], h = (int)x.shape[1], w = (int)x.shape[2];
        var bytesT = ((x.detach().cpu().to_type(ScalarType.Float32).clamp(-1, 1) + 1) * 127.5f).round().to_type(ScalarType.Byte);
        var v = bytesT.data<byte>().ToArray();
        var bitmap = new SKBitmap(w, h, SKColorType.Rgba8888, SKAlphaType.Premul);
        var dst = bitmap.GetPixelSpan();
        for (int i = 0; i < h * w; i++)
        {
            dst[4 * i] = v[i];
            dst[4 * i + 1] = v[(c == 3 ? 1 : 0) * h * w + i];
            dst[4 * i + 2] = v[(c == 3 ? 2 : 0) * h * w + i];
            dst[4 * i + 3] = 255;
        }
        return bitmap;
    }

    /// <summary>Centre-crops to a square and resizes to <paramref name="size"/>×<paramref name="size"/> (high-quality filtering); an image of that size already is copied unfiltered.</summary>
    public static SKBitmap CenterCropResize(SKBitmap bitmap, int size)
    {
        if (size < 1) throw new DiffusionLabException($"image size must be positive, got {size}");
        if (bitmap.Width == size && bitmap.Height == size) return bitmap.Copy(SKColorType.Rgba8888); // already right: no filtering
        int side = Math.Min(bitmap.Width, bitmap.Height);
        var crop = new SKRectI((bitmap.Width - side) / 2, (bitmap.Height - side) / 2, (bitmap.Width - side) / 2 + side, (bitmap.Height - side) / 2 + side);
        var result = new SKBitmap(size, size, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var canvas = new SKCanvas(result);
        using var image = SKImage.FromBitmap(bitmap);
        canvas.DrawImage(image, new SKRect(crop.Left, crop.Top, crop.Right, crop.Bottom), new SKRect(0, 0, size, size),
            new SKSamplingOptions(SKCubicResampler.Mitchell), null);
        return result;
    }

    /// <summary>Loads an image file, centre-crops and resizes it to a square of <paramref name="size"/> pixels.</summary>
    public static Tensor LoadSquare(string path, int size, int channels = 3)
    {
        using var bitmap = Decode(path);
        using var square = CenterCropResize(bitmap, size);
        return FromBitmap(square, channels);
    }

    /// <summary>Writes a bitmap as PNG, atomically (temp file + rename), creating the folder if needed.</summary>
    public static void SavePng(SKBitmap bitmap, string path) => AtomicFile.WriteAllBytes(path, EncodePng(bitmap));

    /// <summary>A bitmap encoded as PNG bytes (for GIF frames and files alike).</summary>
    public static byte[] EncodePng(SKBitmap bitmap)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>Writes a [C, H, W] tensor in [−1, 1] as PNG.</summary>
    public static void SavePng(Tensor image, string path)
    {
        using var bitmap = ToBitmap(image);
        SavePng(bitmap, path);
    }
}
