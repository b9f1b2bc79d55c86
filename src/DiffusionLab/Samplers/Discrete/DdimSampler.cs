using DiffusionLab.Denoisers;
using DiffusionLab.Schedules;

namespace DiffusionLab.Samplers.Discrete;

/// <summary>
/// DDIM (Song, Meng &amp; Ermon 2021): over a sub-sequence τ of the T steps,
/// x_{τ_{i−1}} = √ᾱ_{τ_{i−1}} x̂_0 + √(1 − ᾱ_{τ_{i−1}} − σ²) ε̂ + σ z (eq. 12) with
/// σ = η √((1 − ᾱ_{τ_{i−1}})/(1 − ᾱ_{τ_i})) √(1 − ᾱ_{τ_i}/ᾱ_{τ_{i−1}}) (eq. 16). η = 0 is deterministic;
/// η = 1 over all steps is DDPM ancestral sampling.
/// </summary>
public sealed class DdimSampler(double eta = 0.0, double? clipX0 = null) : DiscreteSampler
{
    public override string Name => "ddim";

    public override SampleResult Sample(DiscreteModel model, Tensor noise, IReadOnlyList<int> grid, NoiseGenerator? generator = null, Action<int, Tensor>? onStep = null)
    {
        if (eta < 0 || eta > 1) throw new DiffusionLabException($"eta must be in [0, 1], got {eta}");
        var s = model.Schedule;
        var taus = StepGrid.Check(grid, s.Steps);
        using var noGrad = torch.no_grad(); // sampling never backpropagates
        var x = noise.alias();
        for (int i = 0; i < taus.Length; i++)
        {
            using var scope = torch.NewDisposeScope();
            int t = taus[i], prev = i + 1 < taus.Length ? taus[i + 1] : 0;
            var p = model.Predict(x, t);
            var x0 = p.X0;
            var eps = p.Epsilon;
            if (clipX0 is double c)
            {
                x0 = x0.clamp(-c, c);
                eps = (x - Math.Sqrt(s.AlphaBar(t)) * x0) / Math.Sqrt(1 - s.AlphaBar(t)); // keep ε̂ consistent with the clipped x̂_0
            }
            double ab = s.AlphaBar(t), abPrev = s.AlphaBar(prev);
            double sigma = eta * Math.Sqrt((1 - abPrev) / (1 - ab)) * Math.Sqrt(1 - ab / abPrev);   // eq. 16
            var next = Math.Sqrt(abPrev) * x0 + Math.Sqrt(Math.Max(1 - abPrev - sigma * sigma, 0)) * eps; // eq. 12
            if (sigma > 0) next = next + sigma * NoiseGenerator.RandnLike(x, generator);
            x.Dispose();
            x = next.MoveToOuterDisposeScope();
            onStep?.Invoke(i + 1, x);
        }
        return new SampleResult(x, taus.Length);
    }
}
