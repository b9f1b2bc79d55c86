using DiffusionLab.Denoisers;
using DiffusionLab.Schedules;

namespace DiffusionLab.Samplers.Discrete;

/// <summary>
/// DPM-Solver++(2M) (Lu et al. 2022, Alg. 2): a second-order multistep solver in the data-prediction form, over the
/// strided steps τ of <see cref="Schedules.StepGrid.Uniform"/>, with λ = log(α/σ), α = √ᾱ, σ = √(1 − ᾱ), h = λ_s − λ_t for a
/// step t → s and D1 = (x̂_0(t) − x̂_0(t_prev))/r, r = h_prev/h (x̂_0 taken as linear in λ).
/// <para>Probability-flow ODE (<c>dpm++2m</c>, deterministic): x_s = (σ_s/σ_t) x_t − α_s (e^{−h} − 1) D with
/// D = (1 + 1/(2r)) x̂_0(t) − 1/(2r) x̂_0(t_prev) = x̂_0(t) + D1/2.</para>
/// <para>Reverse SDE (<c>dpm++2m-sde</c>, SDE-DPM-Solver++(2M), the variant by the same authors behind diffusers'
/// <c>sde-dpmsolver++</c>): integrating the reverse VP SDE exactly in λ with x̂_0 linear in λ gives
/// x_s = (σ_s/σ_t) e^{−h} x_t + α_s (1 − e^{−2h}) x̂_0(t) + α_s (1 − (1 − e^{−2h})/(2h)) D1 + σ_s √(1 − e^{−2h}) z.
/// Its first-order part is the DDPM posterior step (DDIM η = 1: σ_s² (1 − e^{−2h}) = σ_s²/σ_t² (1 − ᾱ_t/ᾱ_s)), so the
/// fresh noise corrects the network's errors as ancestral sampling does, with a second-order drift.</para>
/// The first step (no history) and the step into τ_1 — where λ jumps (to ≈ 4.6 at t = 1 for the linear schedule) and
/// the extrapolation ratio 1/r explodes; diffusers' lower_order_final — are first order; the last step, to t = 0 where
/// λ = ∞ and σ_0 = 0, gives x_0 = x̂_0. One network evaluation per step; x̂_0 optionally clipped to [−c, c].
/// </summary>
public sealed class DpmSolverPlusPlusSampler(double? clipX0 = null, bool stochastic = false) : DiscreteSampler
{
    public override string Name => stochastic ? "dpm++2m-sde" : "dpm++2m";

    public override SampleResult Sample(DiscreteModel model, Tensor noise, IReadOnlyList<int> grid, NoiseGenerator? generator = null, Action<int, Tensor>? onStep = null)
    {
        var s = model.Schedule;
        var taus = StepGrid.Check(grid, s.Steps);
        using var noGrad = torch.no_grad(); // sampling never backpropagates
        var x = noise.alias();
        Tensor? previousX0 = null;
        double previousH = 0;
        for (int i = 0; i < taus.Length; i++)
        {
            using var scope = torch.NewDisposeScope();
            int t = taus[i], next = i + 1 < taus.Length ? taus[i + 1] : 0;
            var x0 = model.PredictX0(x, t, clipX0);
            Tensor updated;
            double h = 0;
            if (next == 0) updated = x0.alias(); // σ_0 = 0: x_0 = x̂_0 (the first-order step's limit; no noise term)
            else
            {
                double sigmaT = s.SqrtOneMinusAlphaBar(t), sigmaS = s.SqrtOneMinusAlphaBar(next), alphaS = s.SqrtAlphaBar(next);
                h = s.Lambda(next) - s.Lambda(t);
                bool secondOrder = previousX0 is not null && i < taus.Length - 2;
                if (stochastic)
                {
                    double decay = -double.ExpM1(-2 * h); // 1 − e^{−2h}
                    updated = sigmaS / sigmaT * Math.Exp(-h) * x + alphaS * decay * x0 + sigmaS * Math.Sqrt(decay) * NoiseGenerator.RandnLike(x, generator);
                    if (secondOrder)
                    {
                        var d1 = (x0 - previousX0!) * (h / previousH);
                        updated = updated + alphaS * (1 - decay / (2 * h)) * d1; // the linear term's exact integral (diffusers' "heun" form)
                    }
                }
                else
                {
                    var d = x0;
                    if (secondOrder)
                    {
                        double r = previousH / h;
                        d = (1 + 1 / (2 * r)) * x0 - 1 / (2 * r) * previousX0!; // Lu et al. 2022, Alg. 2 (multistep second order)
                    }
                    updated = sigmaS / sigmaT * x - alphaS * (Math.Exp(-h) - 1) * d;
                }
            }
            previousX0?.Dispose();
            previousX0 = x0.MoveToOuterDisposeScope();
            previousH = h;
            x.Dispose();
            x = updated.MoveToOuterDisposeScope();
            onStep?.Invoke(i + 1, x);
        }
        previousX0?.Dispose();
        return new SampleResult(x, taus.Length);
    }
}
