using SkiaSharp;

namespace DiffusionLab.Imaging;

/// <summary>
/// Lays out bitmaps as a labelled table (rows × columns) — used for x_t strips, sample grids and
/// per-class grids. Tiles are scaled by an integer factor with nearest-neighbour filtering so small
/// images (28 px, 64 px) stay crisp.
/// </summary>
public static class ImageGrid
{
    public static SKBitmap Compose(
        IReadOnlyList<IReadOnlyList<SKBitmap>> rows,
        IReadOnlyList<string>? rowLabels = null,
        IReadOnlyList<string>? columnLabels = null,
        int scale = 1,
        int gap = 2,
        float fontSize = 13f)
    {
        if (rows.Count == 0 || rows.Any(r => r.Count == 0)) throw new ArgumentException("grid needs at least one tile per row");
        int tileW = rows.Max(r => r.Max(b => b.Width)) * scale, tileH = rows.Max(r => r.Max(b => b.Height)) * scale;
        int cols = rows.Max(r => r.Count);
        using var font = new SKFont(SKTypeface.Default, fontSize);
        rowLabels = rowLabels?.Select(l => Shortened(l, font, MaxRowLabelWidth)).ToList();
        int left = rowLabels is null ? 0 : (int)Math.Ceiling(rowLabels.Max(l => font.MeasureText(l))) + 8;
        int top = columnLabels is null ? 0 : (int)Math.Ceiling(fontSize * 1.5);
        int width = left + cols * tileW + (cols + 1) * gap, height = top + rows.Count * tileH + (rows.Count + 1) * gap;

        var result = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var canvas = new SKCanvas(result);
        canvas.Clear(SKColors.White);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        var sampling = new SKSamplingOptions(SKFilterMode.Nearest, SKMipmapMode.None);
        for (int r = 0; r < rows.Count; r++)
        {
            int y = top + gap + r * (tileH + gap);
            if (rowLabels is not null && r < rowLabels.Count)
                canvas.DrawText(rowLabels[r], 4, y + tileH / 2f + fontSize / 3f, SKTextAlign.Left, font, text);
            for (int c = 0; c < rows[r].Count; c++)
            {
                int x = left + gap + c * (tileW + gap);
                using var img = SKImage.FromBitmap(rows[r][c]);
                canvas.DrawImage(img, new SKRect(x, y, x + rows[r][c].Width * scale, y + rows[r][c].Height * scale), sampling);
            }
        }
        if (columnLabels is not null)
            for (int c = 0; c < Math.Min(cols, columnLabels.Count); c++)
                canvas.DrawText(columnLabels[c], left + gap + c * (tileW + gap) + tileW / 2f, fontSize * 1.1f, SKTextAlign.Center, font, text);
        return result;
    }

    /// <summary>The widest a row label is drawn (px): a longer one (a long prompt) is cut with "…", so the tiles stay in view.</summary>
    public const float MaxRowLabelWidth = 240;

    // the label as is when it fits in maxWidth, else its longest start that fits with "…" after it (found by bisection:
    // the width grows with the length, and a prompt may be thousands of characters)
    private static string Shortened(string label, SKFont font, float maxWidth)
    {
        if (font.MeasureText(label) <= maxWidth) return label;
        int fits = 0, tooLong = label.Length;
        while (tooLong - fits > 1)
        {
            int mid = (fits + tooLong) / 2;
            if (font.MeasureText(label[..mid] + "…") <= maxWidth) fits = mid; else tooLong = mid;
        }
        return label[..fits].TrimEnd() + "…";
    }

    /// <summary>Rows of [B, C, H, W] tensors in [−1, 1] as a labelled grid (tiles scaled by <paramref name="scale"/>).</summary>
    public static SKBitmap ComposeTensors(IReadOnlyList<Tensor> rows, IReadOnlyList<string>? rowLabels = null,
        IReadOnlyList<string>? columnLabels = null, int scale = 2)
    {
        var bitmaps = rows.Select(r => (IReadOnlyList<SKBitmap>)r.unbind(0).Select(ImageTensor.ToBitmap).ToList()).ToList();
        try { return Compose(bitmaps, rowLabels, columnLabels, scale); }
        finally { foreach (var row in bitmaps) foreach (var b in row) b.Dispose(); }
    }

    /// <summary>Writes rows of [B, C, H, W] tensors as a labelled grid PNG.</summary>
    public static void SaveRows(string path, IReadOnlyList<Tensor> rows, IReadOnlyList<string>? rowLabels = null,
        IReadOnlyList<string>? columnLabels = null, int scale = 2)
    {
        using var grid = ComposeTensors(rows, rowLabels, columnLabels, scale);
        ImageTensor.SavePng(grid, path);
    }
}
