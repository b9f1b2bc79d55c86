using DiffusionLab.Sde;

namespace DiffusionLab.Samplers.Sde;

/// <summary>
/// Euler's method on the probability-flow ODE dx/dt = f(x, t) − ½g(t)² ∇ log p_t(x) (Song et al. 2021, eq. 13),
/// from x_T to ε_t over uniform steps; deterministic given x_T. One network evaluation per step.
/// </summary>
public sealed class ProbabilityFlowEulerSampler(double endTime = SdeSampling.DefaultEndTime) : ISampler<ScoreModel>
{
    public string Name => "ode-euler";

    public SampleResult Sample(ScoreModel model, Tensor noise, int steps, NoiseGenerator? generator = null, Action<int, Tensor>? onStep = null) =>
        SdeSampling.Integrate(model, noise, steps, endTime, onStep, (x, i, t0, t1) =>
        {
            var t = TensorOps.Times(x, t0);
            var drift = model.Sde.ReverseDrift(x, t, model.Score(x, t), probabilityFlow: true);
            return (x + drift * (t1 - t0), 1); // Euler step of SBGM eq. 13 (dt < 0)
        });
}
