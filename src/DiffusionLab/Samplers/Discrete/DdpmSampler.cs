using DiffusionLab.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Samplers.Discrete;

/// <summary>
/// Ancestral DDPM sampling (Ho et al. 2020, Alg. 2) in the posterior form: x_{t−1} ~ q(x_{t−1} | x_t, x̂_0) =
/// N(μ̃_t(x_t, x̂_0), σ_t² I) with μ̃_t from eq. 7 and σ_t² = β̃_t (default) or β_t (both given in §3.2).
/// Uses all T steps; no noise is added at the last step.
/// </summary>
public sealed class DdpmSampler(bool useBetaVariance = false, double? clipX0 = null) : ISampler<DiscreteModel>
{
    public string Name => "ddpm";

    public SampleResult Sample(DiscreteModel model, Tensor noise, int steps, Generator? generator = null, Action<int, Tensor>? onStep = null)
    {
        var s = model.Schedule;
        if (steps != s.Steps)
            throw new DiffusionLabException($"DDPM sampling uses all {s.Steps} steps of the schedule, got --steps {steps} (use ddim for fewer steps)");
        using var noGrad = torch.no_grad(); // sampling never backpropagates
        var x = noise.alias();
        for (int t = s.Steps; t >= 1; t--)
        {
            using var scope = torch.NewDisposeScope();
            var x0 = model.Predict(x, t).X0;
            if (clipX0 is double c) x0 = x0.clamp(-c, c);
            // μ̃_t = √ᾱ_{t−1} β_t/(1 − ᾱ_t) · x̂_0 + √α_t (1 − ᾱ_{t−1})/(1 − ᾱ_t) · x_t   (Ho et al. 2020, eq. 7)
            double ab = s.AlphaBar(t), abPrev = s.AlphaBar(t - 1);
            var mean = Math.Sqrt(abPrev) * s.Beta(t) / (1 - ab) * x0 + Math.Sqrt(s.Alpha(t)) * (1 - abPrev) / (1 - ab) * x;
            Tensor next = mean;
            if (t > 1)
            {
                double variance = useBetaVariance ? s.Beta(t) : s.PosteriorVariance(t);
                next = mean + Math.Sqrt(variance) * torch.randn(x.shape, dtype: x.dtype, generator: generator).to(x.device);
            }
            x.Dispose();
            x = next.MoveToOuterDisposeScope();
            onStep?.Invoke(s.Steps - t + 1, x);
        }
        return new SampleResult(x, s.Steps);
    }
}
