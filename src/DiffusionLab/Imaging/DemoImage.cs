using SkiaSharp;

namespace DiffusionLab.Imaging;

/// <summary>
/// The built-in demo picture used when no image is given: a small landscape drawn in code (sky gradient,
/// sun, hills, a house, a checkerboard field), so the forward-process study runs with no download and
/// has both smooth regions and sharp edges to destroy.
/// </summary>
public static class DemoImage
{
    public static SKBitmap Create(int size = 128)
    {
        var bitmap = new SKBitmap(size, size, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var canvas = new SKCanvas(bitmap);
        canvas.Scale(size / 128f);
        using (var sky = new SKPaint
        {
            Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(0, 80),
                [new SKColor(40, 90, 200), new SKColor(170, 210, 255)], SKShaderTileMode.Clamp),
        })
            canvas.DrawRect(0, 0, 128, 128, sky);
        using var paint = new SKPaint { IsAntialias = true };
        paint.Color = new SKColor(255, 215, 60);
        canvas.DrawCircle(98, 26, 14, paint);
        paint.Color = new SKColor(60, 140, 60);
        using (var hills = new SKPath())
        {
            hills.MoveTo(0, 128);
            for (int x = 0; x <= 128; x += 4) hills.LineTo(x, 78 + 10 * MathF.Sin(x / 14f));
            hills.LineTo(128, 128);
            hills.Close();
            canvas.DrawPath(hills, paint);
        }
        // A checkerboard field: high-frequency structure that noise hides first.
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 3; j++)
            {
                paint.Color = (i + j) % 2 == 0 ? new SKColor(240, 240, 230) : new SKColor(30, 30, 30);
                canvas.DrawRect(8 + 8 * i, 100 + 8 * j, 8, 8, paint);
            }
        paint.Color = new SKColor(200, 60, 50);
        canvas.DrawRect(84, 84, 28, 22, paint);
        using (var roof = new SKPath())
        {
            roof.MoveTo(80, 86); roof.LineTo(98, 68); roof.LineTo(116, 86); roof.Close();
            paint.Color = new SKColor(110, 50, 30);
            canvas.DrawPath(roof, paint);
        }
        paint.Color = new SKColor(250, 240, 180);
        canvas.DrawRect(94, 92, 8, 14, paint);
        return bitmap;
    }
}
