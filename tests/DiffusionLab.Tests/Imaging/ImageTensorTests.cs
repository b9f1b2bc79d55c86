using DiffusionLab.Imaging;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Imaging;

public class ImageTensorTests
{
    [Fact]
    public void PngRoundTripIsExactForByteValues()
    {
        var dir = Directory.CreateTempSubdirectory("difflab-img").FullName;
        using var scope = torch.NewDisposeScope();
        var bytes = torch.randint(0, 256, new long[] { 3, 9, 7 }, generator: new Generator(3)).to_type(ScalarType.Float32);
        var image = bytes / 127.5f - 1f;
        var path = Path.Combine(dir, "a.png");
        ImageTensor.SavePng(image, path);
        var back = ImageTensor.Load(path);
        Assert.Equal(new long[] { 3, 9, 7 }, back.shape);
        Assert.True(((back - image).abs().max().item<float>()) < 1e-5);
    }

    [Fact]
    public void GrayscaleAndResizeGiveTheRequestedShape()
    {
        var dir = Directory.CreateTempSubdirectory("difflab-img").FullName;
        using var demo = DemoImage.Create(50);
        var path = Path.Combine(dir, "demo.png");
        ImageTensor.SavePng(demo, path);
        using var scope = torch.NewDisposeScope();
        Assert.Equal(new long[] { 1, 20, 20 }, ImageTensor.LoadSquare(path, 20, channels: 1).shape);
        var rgb = ImageTensor.LoadSquare(path, 32);
        Assert.Equal(new long[] { 3, 32, 32 }, rgb.shape);
        Assert.InRange(rgb.min().item<float>(), -1f, 1f);
        Assert.InRange(rgb.max().item<float>(), -1f, 1f);
    }

    [Fact]
    public void MissingOrCorruptFilesGiveClearErrors()
    {
        var dir = Directory.CreateTempSubdirectory("difflab-img").FullName;
        Assert.StartsWith("image not found", Assert.Throws<DiffusionLabException>(() => ImageTensor.Load(Path.Combine(dir, "none.png"))).Message);
        var bad = Path.Combine(dir, "bad.png");
        File.WriteAllText(bad, "not a png");
        Assert.StartsWith("cannot decode image", Assert.Throws<DiffusionLabException>(() => ImageTensor.Load(bad)).Message);
    }

    [Fact]
    public void GridHasTheExpectedSize()
    {
        using var a = new SKBitmap(10, 10);
        using var grid = ImageGrid.Compose([[a, a, a], [a]], scale: 2, gap: 1);
        Assert.Equal(3 * 20 + 4, grid.Width);
        Assert.Equal(2 * 20 + 3, grid.Height);
    }

    [Fact]
    public void AVeryLongRowLabelIsCutSoTheTilesStayInView()
    {
        // a prompt of 300 characters as a row label: the label column stays at most MaxRowLabelWidth (+ its 8 px margin)
        using var a = new SKBitmap(10, 10);
        using var shortLabel = ImageGrid.Compose([[a], [a]], rowLabels: ["cat face", "red apple"], gap: 1);
        using var longLabel = ImageGrid.Compose([[a], [a]], rowLabels: ["cat face", new string('x', 300)], gap: 1);
        Assert.InRange(longLabel.Width, 10 + 2 + ImageGrid.MaxRowLabelWidth - 10, 10 + 2 + ImageGrid.MaxRowLabelWidth + 9);
        Assert.True(shortLabel.Width < 10 + 2 + 100, $"a short label keeps its own width, got {shortLabel.Width}");
    }
}
