using DiffusionLab.Sde;

namespace DiffusionLab.Samplers.Sde;

/// <summary>
/// Euler–Maruyama on the reverse-time SDE dx = [f(x, t) − g(t)² ∇ log p_t(x)] dt + g(t) dW̄ (Song et al. 2021, eq. 6),
/// from x_T (the given prior sample) to ε_t over uniform steps: x ← x − [f − g² s_θ]·Δt + g√Δt·z. The last step
/// adds no noise and returns the mean, as score_sde's <c>noise_removal</c>. One network evaluation per step.
/// </summary>
public sealed class EulerMaruyamaSampler(double endTime = SdeSampling.DefaultEndTime) : ISampler<ScoreModel>
{
    public string Name => "em";

    public SampleResult Sample(ScoreModel model, Tensor noise, int steps, NoiseGenerator? generator = null, Action<int, Tensor>? onStep = null) =>
        SdeSampling.Integrate(model, noise, steps, endTime, onStep, (x, i, t0, t1) =>
        {
            var sde = model.Sde;
            double dt = t0 - t1;
            var t = TensorOps.Times(x, t0);
            var drift = sde.ReverseDrift(x, t, model.Score(x, t), probabilityFlow: false);
            var mean = x - drift * dt; // SBGM eq. 6 discretised by Euler–Maruyama, integrating backwards in time
            var next = i == steps - 1
                ? mean
                : mean + TensorOps.ToRankOf(sde.Diffusion(t), x) * Math.Sqrt(dt) * SdeSampling.Noise(x, generator); // + g√Δt z
            return (next, 1);
        });
}
