using DiffusionLab.Imaging;
using TorchSharp;
using static TorchSharp.torch;
using S = DiffusionLab.Schedules.NoiseSchedules;
using DiffusionLab.Metrics;

namespace DiffusionLab.Tests.Metrics;

public class StructureMetricsTests
{
    [Fact]
    public void SlicedWassersteinMatchesTheClosedFormForScaledGaussians()
    {
        // W1(N(0, σ²), N(0, 1)) = |σ − 1|·√(2/π) in 1-D, and every projection of N(0, σ²I) is N(0, σ²).
        using var scope = torch.NewDisposeScope();
        var g = TensorOps.SeededGenerator(1);
        var dirs = StructureMetrics.RandomDirections(8, 32, seed: 2);
        var same = torch.randn(20000, 8, generator: g);
        var wide = 2 * torch.randn(20000, 8, generator: g);
        Assert.InRange(StructureMetrics.SlicedWassersteinToStandardNormal(same, dirs), 0, 0.02);
        Assert.Equal(Math.Sqrt(2 / Math.PI), StructureMetrics.SlicedWassersteinToStandardNormal(wide, dirs), 0.02);
    }

    [Fact]
    public void CorrelationMatchesItsExpectationUnderQ()
    {
        using var scope = torch.NewDisposeScope();
        using var demo = DemoImage.Create(64);
        var x0 = ImageTensor.FromBitmap(demo);
        var noise = torch.randn(x0.shape, generator: TensorOps.SeededGenerator(5));
        var s = S.Linear(1000);
        double std = x0.to_type(ScalarType.Float64).std(unbiased: false).item<double>();
        foreach (var t in new[] { 0, 50, 200, 400, 700 })
        {
            var xt = s.SqrtAlphaBar(t) * x0 + s.SqrtOneMinusAlphaBar(t) * noise;
            Assert.Equal(StructureMetrics.ExpectedCorrelation(s.AlphaBar(t), std), StructureMetrics.Correlation(xt, x0), 0.03);
        }
    }

    [Fact]
    public void BatchedAndSingleFormsAgree()
    {
        using var scope = torch.NewDisposeScope();
        var g = TensorOps.SeededGenerator(9);
        var images = torch.rand(3, 3, 16, 16, generator: g);
        var reference = torch.rand(3, 16, 16, generator: g);
        var dirs = StructureMetrics.RandomDirections(27, 16, seed: 4);
        var batchCorr = StructureMetrics.BatchCorrelation(images, reference).data<double>().ToArray();
        var batchSw = StructureMetrics.BatchSlicedWassersteinToStandardNormal(StructureMetrics.BatchPatches(images, 3), dirs).data<double>().ToArray();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(StructureMetrics.Correlation(images[i], reference), batchCorr[i], 1e-9);
            Assert.Equal(StructureMetrics.SlicedWassersteinToStandardNormal(StructureMetrics.Patches(images[i], 3), dirs), batchSw[i], 1e-9);
        }
    }
}
