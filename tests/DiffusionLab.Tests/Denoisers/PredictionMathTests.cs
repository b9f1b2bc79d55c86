using DiffusionLab.Denoisers;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Denoisers;

public class PredictionMathTests
{
    [Theory]
    [InlineData(Parameterisation.Epsilon)]
    [InlineData(Parameterisation.X0)]
    [InlineData(Parameterisation.V)]
    [InlineData(Parameterisation.Score)]
    public void ReadingTheTargetBackGivesTheTrueNoiseAndData(Parameterisation p)
    {
        // A perfect network outputs its target; converting that output must recover ε and x_0 exactly.
        using var scope = torch.NewDisposeScope();
        var g = new Generator(1);
        var x0 = torch.randn(6, 3, generator: g, dtype: ScalarType.Float64);
        var eps = torch.randn(6, 3, generator: g, dtype: ScalarType.Float64);
        var alpha = torch.rand(6, 1, generator: g, dtype: ScalarType.Float64) * 0.9 + 0.05;
        var sigma = (1 - alpha.square()).sqrt();
        var x = alpha * x0 + sigma * eps;
        var pred = PredictionMath.FromOutput(p, PredictionMath.Target(p, x0, eps, alpha, sigma), x, alpha, sigma);
        Assert.True((pred.Epsilon - eps).abs().max().item<double>() < 1e-10);
        Assert.True((pred.X0 - x0).abs().max().item<double>() < 1e-10);
        Assert.True((pred.Score(sigma) + eps / sigma).abs().max().item<double>() < 1e-9);
    }

    [Fact]
    public void UnknownPredictionNameIsAClearError() =>
        Assert.Contains("unknown prediction 'y'", Assert.Throws<DiffusionLabException>(() => PredictionMath.Parse("y")).Message);
}
