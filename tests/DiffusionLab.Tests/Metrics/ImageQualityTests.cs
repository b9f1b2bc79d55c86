using DiffusionLab.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Metrics;

public class ImageQualityTests
{
    [Fact]
    public void PsnrOfAConstantOffsetIsTenLogOfRangeSquaredOverTheOffsetSquared()
    {
        using var x = torch.rand([2, 3, 8, 8], generator: new Generator(1)) * 1.6 - 0.8;
        using var y = x + 0.1;
        var psnr = ImageQuality.Psnr(x, y);
        foreach (var p in psnr) Assert.Equal(10 * Math.Log10(4 / 0.01), p, 4); // 26.02 dB; float32 inputs
        Assert.Equal(double.PositiveInfinity, ImageQuality.Psnr(x, x)[0]);
    }

    [Fact]
    public void SsimOfTwoFlatImagesIsTheLuminanceTermAlone()
    {
        // flat images have no variance or covariance: the structure term is C₂/C₂ = 1 and SSIM = (2ab + C₁)/(a² + b² + C₁)
        const double a = 0.5, b = -0.25;
        using var x = torch.full([1, 3, 16, 16], a);
        using var y = torch.full([1, 3, 16, 16], b);
        double c1 = Math.Pow(0.01 * 2, 2);
        Assert.Equal((2 * a * b + c1) / (a * a + b * b + c1), ImageQuality.Ssim(x, y)[0], 6);
    }

    [Fact]
    public void SsimIsOneForIdenticalImagesFallsWithNoiseAndIsNearZeroForAnUnrelatedImage()
    {
        using var x = torch.rand([1, 1, 32, 32], generator: new Generator(2)) * 2 - 1;
        Assert.Equal(1.0, ImageQuality.Ssim(x, x)[0], 9);
        using var noise = torch.randn([1, 1, 32, 32], generator: new Generator(3));
        using var slightly = x + 0.05 * noise;
        using var much = x + 0.5 * noise;
        using var unrelated = torch.rand([1, 1, 32, 32], generator: new Generator(4)) * 2 - 1;
        double s1 = ImageQuality.Ssim(x, slightly)[0], s2 = ImageQuality.Ssim(x, much)[0], s3 = ImageQuality.Ssim(x, unrelated)[0];
        // independent uniform images: the covariance term is 0 in expectation; 22² windows keep its scatter well below 0.1
        Assert.True(1 > s1 && s1 > s2 && s2 > Math.Abs(s3) && Math.Abs(s3) < 0.1, $"{s1} {s2} {s3}");
    }

    [Fact]
    public void BatchesOfDifferentShapesAreRefused()
    {
        using var x = torch.zeros(1, 3, 8, 8);
        using var y = torch.zeros(1, 3, 8, 4);
        var e = Assert.Throws<DiffusionLabException>(() => ImageQuality.Psnr(x, y));
        Assert.Contains("same shape", e.Message);
    }
}
