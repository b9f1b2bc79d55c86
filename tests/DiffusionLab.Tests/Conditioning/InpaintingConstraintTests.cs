using DiffusionLab.Conditioning;
using DiffusionLab.Denoisers;
using DiffusionLab.Editing;
using DiffusionLab.Models;
using DiffusionLab.Schedules;
using TorchSharp;
using static TorchSharp.torch;
using S = DiffusionLab.Schedules.NoiseSchedules;

namespace DiffusionLab.Tests.Conditioning;

public class InpaintingConstraintTests
{
    [Fact]
    public void ReplacementKeepsTheHoleAndDrawsTheKnownPixelsFromTheForwardProcess()
    {
        using var scope = torch.NewDisposeScope();
        var schedule = S.Linear(100);
        var image = torch.rand(1, 1, 128, 128) * 2 - 1;
        var mask = Masks.Centre(128, 0.5);
        var constraint = new InpaintingConstraint(image, mask);
        var unknown = torch.randn(1, 1, 128, 128);
        // at level 0 the known pixels are the original exactly and the hole is the proposal exactly
        var clean = constraint.Replace(unknown, schedule, 0, TensorOps.SeededGenerator(1));
        Assert.Equal(0f, ((clean - image) * (1 - mask)).abs().max().item<float>());
        Assert.Equal(0f, ((clean - unknown) * mask).abs().max().item<float>());
        // at level t the known pixels are √ᾱ_t x_0 + √(1 − ᾱ_t) ε (RePaint eq. 8, first line): the standardised residual
        // of the n known pixels has mean 0 ± 5/√n and variance 1 ± 5·√(2/n)
        int t = 60;
        double ab = schedule.AlphaBar(t);
        var noisy = constraint.Replace(unknown, schedule, t, TensorOps.SeededGenerator(2));
        var keep = (1 - mask).expand_as(image).to(ScalarType.Bool);
        var z = ((noisy - Math.Sqrt(ab) * image) / Math.Sqrt(1 - ab)).masked_select(keep).to(float64);
        double n = z.numel(), mean = z.mean().item<double>(), variance = z.var().item<double>();
        Assert.True(Math.Abs(mean) < 5 / Math.Sqrt(n), $"mean {mean} over {n} pixels");
        Assert.True(Math.Abs(variance - 1) < 5 * Math.Sqrt(2 / n), $"variance {variance} over {n} pixels");
        Assert.Equal(0f, ((noisy - unknown) * mask).abs().max().item<float>());
    }

    [Fact]
    public void TheMcgStepIsThePlainStepMovedAgainstTheGradientOfTheKnownPixelResidual()
    {
        // MCG (Chung et al. 2022): x'_{t−1} = x_{t−1} − α ∇_{x_t} ‖(1 − m)(y − x̂_0(x_t))‖. Checked against a central finite
        // difference of the residual along a random direction, in float64 (error O(h²) ≈ 1e-8, far below the 1e-5 allowed).
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(4);
        var net = new Cs180UNet(new Cs180UNetConfig(Cs180Variant.Class, 1, 8, 8, 4));
        net.eval();
        net.to(float64);
        using var model = new DiscreteModel(S.Linear(50), new Denoiser(net, Parameterisation.Epsilon));
        var image = torch.rand(2, 1, 8, 8, dtype: float64) * 2 - 1;
        var mask = Masks.Centre(8, 0.5).to(float64);
        var x = torch.randn(2, 1, 8, 8, dtype: float64);
        const double alpha = 0.7;
        int t = 30, prev = 25;
        var plain = new InpaintingConstraint(image, mask).Step(model, x, t, prev, TensorOps.SeededGenerator(9));
        var mcg = new InpaintingConstraint(image, mask, alpha).Step(model, x, t, prev, TensorOps.SeededGenerator(9));
        var gradient = (plain - mcg) / alpha;

        double Residual(Tensor at)
        {
            using var noGrad = torch.no_grad();
            return ((1 - mask) * (image - model.Predict(at, t).X0)).flatten(1).norm(1).sum().item<double>();
        }
        var direction = torch.randn(2, 1, 8, 8, dtype: float64);
        const double h = 1e-4;
        double numeric = (Residual(x + h * direction) - Residual(x - h * direction)) / (2 * h);
        double analytic = (gradient * direction).sum().item<double>();
        Assert.True(Math.Abs(numeric - analytic) < 1e-5 * Math.Max(1, Math.Abs(numeric)), $"finite difference {numeric}, MCG step {analytic}");
        Assert.True(gradient.abs().max().item<double>() > 1e-6, "the known pixels pulled nothing");
    }

    [Fact]
    public void WhereXHat0IsClippedTheKnownPixelsPullNothing()
    {
        // MCG's gradient flows through the clipped x̂_0 (as in DPS's and MCG's code): with every pixel of x̂_0 beyond a tiny
        // clip the residual is constant in x_t, so the MCG step equals the plain one; without the clip it does not.
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(4);
        var net = new Cs180UNet(new Cs180UNetConfig(Cs180Variant.Class, 1, 8, 8, 4));
        net.eval();
        using var model = new DiscreteModel(S.Linear(50), new Denoiser(net, Parameterisation.Epsilon));
        var image = torch.rand(2, 1, 8, 8) * 2 - 1;
        var mask = Masks.Centre(8, 0.5);
        var x = torch.randn(2, 1, 8, 8) * 3;
        int t = 45, prev = 40;
        const double tiny = 1e-6;
        Assert.True(model.Predict(x, t).X0.abs().min().item<float>() > tiny, "the check needs every |x̂_0| above the clip");
        var plain = new InpaintingConstraint(image, mask, 0, tiny).Step(model, x, t, prev, TensorOps.SeededGenerator(9));
        var mcg = new InpaintingConstraint(image, mask, 1, tiny).Step(model, x, t, prev, TensorOps.SeededGenerator(9));
        Assert.Equal(0f, (plain - mcg).abs().max().item<float>());
        var unclippedMcg = new InpaintingConstraint(image, mask, 1).Step(model, x, t, prev, TensorOps.SeededGenerator(9));
        var unclippedPlain = new InpaintingConstraint(image, mask).Step(model, x, t, prev, TensorOps.SeededGenerator(9));
        Assert.True((unclippedPlain - unclippedMcg).abs().max().item<float>() > 1e-4);
        var bad = Assert.Throws<DiffusionLabException>(() => new InpaintingConstraint(image, mask, 1, 0));
        Assert.Contains("ClipX0", bad.Message);
    }

    [Fact]
    public void ABadMaskOrStepSizeIsAClearError()
    {
        using var scope = torch.NewDisposeScope();
        var image = torch.zeros(1, 1, 8, 8);
        var wrongSize = Assert.Throws<DiffusionLabException>(() => new InpaintingConstraint(image, Masks.Centre(10)));
        Assert.Contains("10×10", wrongSize.Message);
        var negative = Assert.Throws<DiffusionLabException>(() => new InpaintingConstraint(image, Masks.Centre(8), -1));
        Assert.Contains("McgScale", negative.Message);
        Assert.Equal(InpaintingConstraint.DefaultMcgScale, new InpaintOptions().McgScale);
    }
}
