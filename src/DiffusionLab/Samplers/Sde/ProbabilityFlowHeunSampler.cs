using DiffusionLab.Sde;

namespace DiffusionLab.Samplers.Sde;

/// <summary>
/// Heun's second-order method on the probability-flow ODE (Song et al. 2021, eq. 13): an Euler predictor
/// x̃ = x + d(x, t_i)Δt, then x ← x + ½[d(x, t_i) + d(x̃, t_{i+1})]Δt. The last step is a plain Euler step
/// (as in Karras et al. 2022, Alg. 1), so N steps cost 2N − 1 network evaluations.
/// </summary>
public sealed class ProbabilityFlowHeunSampler(double endTime = SdeSampling.DefaultEndTime) : ISampler<ScoreModel>
{
    public string Name => "ode-heun";

    public SampleResult Sample(ScoreModel model, Tensor noise, int steps, NoiseGenerator? generator = null, Action<int, Tensor>? onStep = null) =>
        SdeSampling.Integrate(model, noise, steps, endTime, onStep, (x, i, t0, t1) =>
        {
            var sde = model.Sde;
            double dt = t1 - t0; // negative: integrating from T down to ε_t
            var t = TensorOps.Times(x, t0);
            var d = sde.ReverseDrift(x, t, model.Score(x, t), probabilityFlow: true);
            var next = x + d * dt; // Euler predictor (SBGM eq. 13)
            if (i == steps - 1) return (next, 1);
            var tNext = TensorOps.Times(x, t1);
            var dNext = sde.ReverseDrift(next, tNext, model.Score(next, tNext), probabilityFlow: true);
            return (x + 0.5 * (d + dNext) * dt, 2); // trapezoidal corrector (Heun; Karras et al. 2022, Alg. 1)
        });
}
