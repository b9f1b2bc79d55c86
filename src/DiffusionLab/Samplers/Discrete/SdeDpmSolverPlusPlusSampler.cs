using DiffusionLab.Diffusion;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Samplers.Discrete;

/// <summary>
/// SDE-DPM-Solver++(2M) (Lu et al. 2022, DPM-Solver++, its SDE variant by the same authors as diffusers'
/// <c>sde-dpmsolver++</c>): a second-order multistep solver of the reverse diffusion SDE in the data-prediction form,
/// over the strided steps τ. Integrating the reverse VP SDE exactly in λ = log(α/σ) from t to s (h = λ_s − λ_t) with
/// x̂_0 linear in λ (slope D1/h, D1 = (x̂_0(t) − x̂_0(t_prev))/r, r = h_prev/h) gives
/// x_s = (σ_s/σ_t) e^{−h} x_t + α_s (1 − e^{−2h}) x̂_0(t) + α_s (1 − (1 − e^{−2h})/(2h)) D1 + σ_s √(1 − e^{−2h}) z.
/// Its first-order part is the DDPM posterior step (DDIM η = 1: σ_s² (1 − e^{−2h}) = σ_s²/σ_t² (1 − ᾱ_t/ᾱ_s)), so the
/// fresh noise corrects the network's errors as ancestral sampling does, with a second-order drift. The first step (no
/// history), the step into τ_1 (where λ jumps) and the last step to t = 0 (σ_0 = 0: x_0 = x̂_0) are first order.
/// One network evaluation per step.
/// </summary>
public sealed class SdeDpmSolverPlusPlusSampler(double? clipX0 = null) : ISampler<DiscreteModel>
{
    public string Name => "dpm++2m-sde";

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
            if (next == 0) updated = x0.alias(); // σ_0 = 0: the noise term vanishes and x_0 = x̂_0
            else
            {
                double abT = s.AlphaBar(t), abS = s.AlphaBar(next);
                double sigmaT = Math.Sqrt(1 - abT), sigmaS = Math.Sqrt(1 - abS), alphaS = Math.Sqrt(abS);
                h = Lambda(next) - Lambda(t);
                double decay = -double.ExpM1(-2 * h); // 1 − e^{−2h}
                updated = sigmaS / sigmaT * Math.Exp(-h) * x + alphaS * decay * x0 + sigmaS * Math.Sqrt(decay) * TensorOps.RandnLike(x, generator);
                if (previousX0 is not null && i < taus.Length - 2)
                {
                    var d1 = (x0 - previousX0) * (h / previousH);
                    updated = updated + alphaS * (1 - decay / (2 * h)) * d1; // the linear term's exact integral (diffusers' "heun" form)
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
