using System.Globalization;
using DiffusionLab.Imaging;

namespace DiffusionLab.Editing;

/// <summary>
/// Inpainting masks [1, 1, H, W] of 0s and 1s: <b>1 marks the hole to generate</b>, 0 the known pixels to keep
/// (the CS180 convention of x_t ← m·x_t + (1 − m)·q(x_orig, t)).
/// </summary>
public static class Masks
{
    /// <summary>A centred square hole covering <paramref name="fraction"/> of each side (the seed's centred hole is ½).</summary>
    public static Tensor Centre(int size, double fraction = 0.5)
    {
        if (!(fraction > 0 && fraction < 1)) throw new DiffusionLabException($"the hole fraction must be in (0, 1), got {fraction}");
        int side = Math.Max(1, (int)Math.Round(size * fraction));
        int start = (size - side) / 2;
        return Rectangle(size, start, start, side, side);
    }

    /// <summary>A rectangular hole with top-left corner (x, y) and the given width and height in pixels.</summary>
    public static Tensor Rectangle(int size, int x, int y, int width, int height)
    {
        if (width < 1 || height < 1 || x < 0 || y < 0 || x + width > size || y + height > size)
            throw new DiffusionLabException($"the rectangle x={x}, y={y}, {width}×{height} does not fit in a {size}×{size} image");
        var m = torch.zeros(1, 1, size, size);
        m[.., .., y..(y + height), x..(x + width)] = torch.tensor(1f);
        return m;
    }

    /// <summary>
    /// Random brush strokes (free-form masks in the spirit of Yu et al. 2019): <paramref name="strokes"/> random walks
    /// of a round brush about size/9 px wide.
    /// </summary>
    public static Tensor Strokes(int size, int strokes, long seed)
    {
        if (strokes < 1) throw new DiffusionLabException($"the number of strokes must be positive, got {strokes}");
        var rng = new Random(unchecked((int)(seed * 7919 + 17)));
        var m = new float[size * size];
        double radius = Math.Max(1.0, size / 18.0);
        for (int s = 0; s < strokes; s++)
        {
            double x = rng.NextDouble() * size, y = rng.NextDouble() * size, angle = rng.NextDouble() * 2 * Math.PI;
            int segments = 4 + rng.Next(4);
            for (int k = 0; k < segments; k++)
            {
                angle += (rng.NextDouble() - 0.5) * 2;
                double length = size * (0.1 + 0.15 * rng.NextDouble());
                for (double d = 0; d <= length; d += 0.5)
                {
                    double px = Math.Clamp(x + Math.Cos(angle) * d, 0, size - 1), py = Math.Clamp(y + Math.Sin(angle) * d, 0, size - 1);
                    for (int j = (int)(py - radius); j <= (int)(py + radius); j++)
                        for (int i = (int)(px - radius); i <= (int)(px + radius); i++)
                            if (i >= 0 && j >= 0 && i < size && j < size && (i - px) * (i - px) + (j - py) * (j - py) <= radius * radius)
                                m[j * size + i] = 1;
                }
                x = Math.Clamp(x + Math.Cos(angle) * length, 0, size - 1);
                y = Math.Clamp(y + Math.Sin(angle) * length, 0, size - 1);
            }
        }
        return torch.tensor(m, [1, 1, size, size]);
    }

    /// <summary>A mask PNG of exactly <paramref name="size"/>×<paramref name="size"/> pixels: white (≥ 50 % grey) = hole.</summary>
    public static Tensor FromPng(string path, int size)
    {
        if (!File.Exists(path)) throw new DiffusionLabException($"mask file not found: {path}");
        using var img = ImageTensor.Load(path, channels: 1);
        if (img.shape[1] != size || img.shape[2] != size)
            throw new DiffusionLabException($"the mask {path} is {img.shape[2]}×{img.shape[1]} but the images are {size}×{size}");
        return img.gt(0).to_type(ScalarType.Float32).unsqueeze(0);
    }

    /// <summary>
    /// Parses a mask option: <c>centre</c>[<c>:FRACTION</c>], <c>rect:X,Y,W,H</c>, <c>strokes</c>[<c>:N</c>], <c>top</c>,
    /// <c>bottom</c>, <c>left</c>, <c>right</c> (half the image) or a PNG path.
    /// </summary>
    public static Tensor Parse(string mask, int size, long seed)
    {
        var (kind, arg) = mask.Split(':', 2) is [var k, var a] ? (k, a) : (mask, (string?)null);
        double Number(string s) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
            : throw new DiffusionLabException($"`mask` {mask}: '{s}' is not a number");
        int half = size / 2;
        switch (kind)
        {
            case "centre" or "center": return Centre(size, arg is null ? 0.5 : Number(arg));
            case "strokes": return Strokes(size, arg is null ? 4 : (int)Number(arg), seed);
            case "top": return Rectangle(size, 0, 0, size, half);
            case "bottom": return Rectangle(size, 0, half, size, size - half);
            case "left": return Rectangle(size, 0, 0, half, size);
            case "right": return Rectangle(size, half, 0, size - half, size);
            case "rect":
                var p = (arg ?? "").Split(',');
                if (p.Length != 4) throw new DiffusionLabException($"`mask` {mask}: a rectangle is rect:X,Y,W,H");
                return Rectangle(size, (int)Number(p[0]), (int)Number(p[1]), (int)Number(p[2]), (int)Number(p[3]));
            default:
                if (mask.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || File.Exists(mask)) return FromPng(mask, size);
                throw new DiffusionLabException($"unknown `mask` '{mask}' (centre[:F], rect:X,Y,W,H, strokes[:N], top, bottom, left, right, or a PNG file)");
        }
    }
}
