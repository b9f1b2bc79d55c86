using DiffusionLab.Denoisers;
using DiffusionLab.Schedules;

namespace DiffusionLab.Samplers.Discrete;

/// <summary>
/// Ancestral DDPM sampling (Ho et al. 2020, Alg. 2) in the posterior form: x_{t'} ~ q(x_{t'} | x_t, x̂_0) =
/// N(μ̃_t(x_t, x̂_0), σ_t² I) with μ̃_t from eq. 7 and σ_t² = β̃_t (default, "posterior") or β_t ("beta": the update of CS180
/// project 5 part B; Ho et al. give both in §3.2). With fewer steps than the schedule it walks the strided steps of
/// <see cref="Schedules.StepGrid.Uniform"/> with α_t = ᾱ_t/ᾱ_{t'} and β_t = 1 − α_t — CS180 project 5 part A's "iterative
/// denoising". No noise is added at the last step.
/// </summary>
public sealed class DdpmSampler(bool useBetaVariance = false, double? clipX0 = null) : DiscreteSampler
{
    public override string Name => "ddpm";

    public override SampleResult Sample(DiscreteModel model, Tensor noise, IReadOnlyList<int> grid, NoiseGenerator? generator = null, Action<int, Tensor>? onStep = null) =>
        SampleFrom(model, noise, StepGrid.Check(grid, model.Schedule.Steps), generator, onStep);

    /// <summary>Runs the update over the given decreasing steps (the last goes to 0); used by SDEdit and inpainting to start mid-way.</summary>
    public SampleResult SampleFrom(DiscreteModel model, Tensor start, IReadOnlyList<int> taus, NoiseGenerator? generator = null, Action<int, Tensor>? onStep = null)
    {
        var s = model.Schedule;
        using var noGrad = torch.no_grad(); // sampling never backpropagates
        var x = start.alias();
        for (int i = 0; i < taus.Count; i++)
        {
            using var scope = torch.NewDisposeScope();
            int t = taus[i], prev = i + 1 < taus.Count ? taus[i + 1] : 0;
            var x0 = model.PredictX0(x, t, clipX0);
            var next = Step(s, x, x0, t, prev, generator, useBetaVariance);
            x.Dispose();
            x = next.MoveToOuterDisposeScope();
            onStep?.Invoke(i + 1, x);
        }
        return new SampleResult(x, taus.Count);
    }

    /// <summary>
    /// One ancestral step from x_t to x_{t'} (t' &lt; t, 0 = clean) given the prediction x̂_0: the posterior mean plus
    /// noise (none when t' = 0). Inpainting and SDEdit build their loops from this step.
    /// </summary>
    public static Tensor Step(Schedules.NoiseSchedule s, Tensor x, Tensor x0, int t, int prev, NoiseGenerator? generator, bool useBetaVariance = false)
    {
        double ab = s.AlphaBar(t), abPrev = s.AlphaBar(prev);
        double alpha = ab / abPrev, beta = 1 - alpha; // one step of the (possibly strided) chain
        // μ̃_t = √ᾱ_{t'} β_t/(1 − ᾱ_t) · x̂_0 + √α_t (1 − ᾱ_{t'})/(1 − ᾱ_t) · x_t   (Ho et al. 2020, eq. 7)
        var mean = Math.Sqrt(abPrev) * beta / (1 - ab) * x0 + Math.Sqrt(alpha) * (1 - abPrev) / (1 - ab) * x;
        if (prev == 0) return mean;
        double variance = useBetaVariance ? beta : (1 - abPrev) / (1 - ab) * beta; // β_t or β̃_t (eq. 7)
        return mean + Math.Sqrt(variance) * NoiseGenerator.RandnLike(x, generator);
    }
}
