using DiffusionLab.Sde;

namespace DiffusionLab.Samplers.Sde;

/// <summary>
/// The samplers of a score SDE by name — one list for the CLI, the studies and the tests, each name the sampler's own
/// <see cref="ISampler{TModel}.Name"/>: em (Euler–Maruyama on the reverse SDE), pc (reverse-diffusion predictor +
/// Langevin corrector), and the probability-flow ODE solved by Euler, Heun or adaptive RK45 (Song et al. 2021).
/// </summary>
public static class SdeSamplers
{
    public static readonly IReadOnlyList<string> Names = ["em", "pc", "ode-euler", "ode-heun", "ode-rk45"];

    /// <param name="name">One of <see cref="Names"/>.</param>
    /// <param name="snr">pc: the Langevin corrector's signal-to-noise ratio.</param>
    /// <param name="tolerance">ode-rk45: rtol = atol.</param>
    public static ISampler<ScoreModel> Create(string name, double snr = PredictorCorrectorSampler.DefaultSnr, double tolerance = ProbabilityFlowRk45Sampler.DefaultTolerance) => name switch
    {
        "em" => new EulerMaruyamaSampler(),
        "pc" => new PredictorCorrectorSampler(snr: snr),
        "ode-euler" => new ProbabilityFlowEulerSampler(),
        "ode-heun" => new ProbabilityFlowHeunSampler(),
        "ode-rk45" => new ProbabilityFlowRk45Sampler(tolerance, tolerance),
        _ => throw new DiffusionLabException($"unknown sampler '{name}' for a score SDE (choose from {string.Join(", ", Names)})"),
    };
}
