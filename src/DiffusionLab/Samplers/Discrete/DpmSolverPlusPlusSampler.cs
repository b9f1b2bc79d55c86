using DiffusionLab.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Samplers.Discrete;

/// <summary>
/// DPM-Solver++(2M) (Lu et al. 2022, Alg. 2): a second-order multistep solver of the probability-flow ODE in the
/// data-prediction form, over the strided steps τ of <see cref="DdimSampler.Timesteps"/>. With λ = log(α/σ),
/// α = √ᾱ, σ = √(1 − ᾱ) and h = λ_s − λ_t for a step t → s:
/// x_s = (σ_s/σ_t) x_t − α_s (e^{−h} − 1) D, where D = (1 + 1/(2r)) x̂_0(t) − 1/(2r) x̂_0(t_prev), r = h_prev/h.
/// The first step (no history) and the last two steps (into τ_1, and to t = 0 where λ = ∞) are first order, i.e. DDIM η = 0. Deterministic;
/// one network evaluation per step; x̂_0 optionally clipped to [−c, c].
/// </summary>
public sealed class DpmSolverPlusPlusSampler(double? clipX0 = null) : ISampler<DiscreteModel>
{
    public string Name => "dpm++2m";

    public SampleResult Sample(DiscreteModel model, Tensor noise, int steps, Generator? generator = null, Action<int, Tensor>? onStep = null)
    {
        var s = model.Schedule;
        var taus = DdimSampler.Timesteps(s.Steps, steps);
        double Lambda(int t) => 0.5 * Math.Log(s.AlphaBar(t) / (1 - s.AlphaBar(t)));
        using var noGrad = torch.no_grad(); // sampling never backpropagates
        var x = noise.alias();
        Tensor? previousX0 = null;
        double previousH = 0;
        for (int i = 0; i < taus.Length; i++)
        {
            using var scope = torch.NewDisposeScope();
            int t = taus[i], next = i + 1 < taus.Length ? taus[i + 1] : 0;
            var x0 = model.Predict(x, t).X0;
            if (clipX0 is double c) x0 = x0.clamp(-c, c);
            Tensor updated;
            double h = 0;
            if (next == 0) updated = x0.alias(); // σ_0 = 0: x_0 = x̂_0 (the first-order step's limit)
            else
            {
                double abT = s.AlphaBar(t), abS = s.AlphaBar(next);
                double sigmaT = Math.Sqrt(1 - abT), sigmaS = Math.Sqrt(1 - abS), alphaS = Math.Sqrt(abS);
                h = Lambda(next) - Lambda(t);
                var d = x0;
                // second order except on the first step (no history) and the last step into τ_1, where λ jumps (to ≈ 4.6 at
                // t = 1 for the linear schedule) and the extrapolation ratio 1/(2r) explodes — diffusers' lower_order_final
                if (previousX0 is not null && i < taus.Length - 2)
                {
                    double r = previousH / h;
                    d = (1 + 1 / (2 * r)) * x0 - 1 / (2 * r) * previousX0; // Lu et al. 2022, Alg. 2 (multistep second order)
                }
                updated = sigmaS / sigmaT * x - alphaS * (Math.Exp(-h) - 1) * d;
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
