using DiffusionLab.Denoisers;
using DiffusionLab.Models;
using TorchSharp;
using static TorchSharp.torch;
using S = DiffusionLab.Schedules.NoiseSchedules;
using DiffusionLab.Conditioning;

namespace DiffusionLab.Tests.Conditioning;

public class ClassifierFreeGuidanceTests
{
    [Fact]
    public void BatchedGuidanceEqualsTheFormulaFromTwoSeparatePasses()
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        torch.manual_seed(3);
        var net = new Cs180UNet(new Cs180UNetConfig(Cs180Variant.Class, 1, 8, 8, 4));
        net.eval();
        using var model = new DiscreteModel(S.Linear(50), new Denoiser(net, Parameterisation.Epsilon));
        var x = torch.randn(4, 1, 8, 8);
        var labels = torch.tensor(new long[] { 0, 1, 2, 3 });
        var tt = torch.full(4, 20 / 50f);
        var epsC = net.Forward(x, tt, labels);
        var epsU = net.call(x, tt);
        foreach (var gamma in new[] { 0.0, 1.0, 3.0, 7.5 })
        {
            var conditioned1 = model.With(new ClassifierFreeGuidance(labels, gamma));
            var p = conditioned1.Predict(x, 20);
            var expected = epsU + gamma * (epsC - epsU); // Ho & Salimans 2022 with γ = 1 + w
            Assert.True((p.Epsilon - expected).abs().max().item<float>() < 1e-5, $"γ = {gamma}");
            // x̂_0 is consistent with the guided ε̂
            double ab = model.Schedule.AlphaBar(20);
            var x0 = (x - Math.Sqrt(1 - ab) * expected) / Math.Sqrt(ab);
            Assert.True((p.X0 - x0).abs().max().item<float>() < 1e-4);
        }
        // the w convention: (1 + w)ε_c − wε_u is γ = 1 + w
        var conditioned2 = model.With(new ClassifierFreeGuidance(labels, ClassifierFreeGuidance.ScaleFromW(2)));
        var pw = conditioned2.Predict(x, 20);
        Assert.True((pw.Epsilon - (3 * epsC - 2 * epsU)).abs().max().item<float>() < 1e-5);
        var conditioned3 = model.With(new ClassifierFreeGuidance(labels[..2], 2));
        Assert.Throws<DiffusionLabException>(() => conditioned3.Predict(x, 20));
    }

    [Fact]
    public void LabelDropoutUsesTheNullClassAtTheRequestedRate()
    {
        // With p_uncond = 1 every label is dropped: the loss equals the unconditional loss on the same draws.
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(4);
        var net = new Cs180UNet(new Cs180UNetConfig(Cs180Variant.Class, 1, 8, 8, 4));
        net.eval();
        using var model = new DiscreteModel(S.Linear(50), new Denoiser(net, Parameterisation.Epsilon));
        var x0 = torch.randn(6, 1, 8, 8);
        var labels = torch.tensor(new long[] { 0, 1, 2, 3, 0, 1 });
        float dropped = model.Loss(x0, new Generator(7), labels, pUncond: 0.999999).item<float>();
        float plainCond = model.Loss(x0, new Generator(7), labels, pUncond: 0).item<float>();
        float uncond = model.Loss(x0, new Generator(7)).item<float>();
        Assert.NotEqual(plainCond, uncond);
        // the dropout draw happens after the step and noise draws, so the same generator gives the same x_t
        Assert.Equal(uncond, dropped, 5);
    }

    [Fact]
    public void ConditioningIsAnArgumentOneNetworkServesSeveralConditionsAtOnce()
    {
        using var scope = torch.NewDisposeScope();
        using var ng = torch.no_grad();
        var net = new Cs180UNet(new Cs180UNetConfig(Cs180Variant.Class, 1, 8, 8, 4));
        net.eval();
        using var model = new DiscreteModel(S.Linear(50), new Denoiser(net, Parameterisation.Epsilon));
        var x = torch.randn(2, 1, 8, 8);
        var guided = model.With(new ClassifierFreeGuidance(torch.tensor(new long[] { 0, 1 }), 3));
        var other = model.With(new ClassifierFreeGuidance(torch.tensor(new long[] { 2, 3 }), 3));
        var a1 = guided.Predict(x, 20).Epsilon;
        var b = other.Predict(x, 20).Epsilon;   // interleaved with the first: nothing shared changes
        var a2 = guided.Predict(x, 20).Epsilon;
        Assert.Equal(0, (a1 - a2).abs().max().item<float>());
        Assert.Equal(0, (b - model.With(new ClassifierFreeGuidance(torch.tensor(new long[] { 2, 3 }), 3)).Predict(x, 20).Epsilon).abs().max().item<float>());
        Assert.Null(model.Conditioning); // the base model is untouched
        guided.Dispose();                // a derived model leaves the shared tables to its parent
        Assert.Equal(0, (model.With(null).Predict(x, 20).Epsilon - model.Predict(x, 20).Epsilon).abs().max().item<float>());
        Assert.Equal(2, ClassifierFreeGuidance.Passes(conditional: true, scale: ClassifierFreeGuidance.DefaultScale));
        Assert.Equal(1, ClassifierFreeGuidance.Passes(conditional: true, scale: 1));
    }
}
