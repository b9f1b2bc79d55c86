using DiffusionLab.Denoisers;
using DiffusionLab.Schedules;

namespace DiffusionLab.Samplers.Discrete;

/// <summary>
/// Heun's second-order solver of the probability-flow ODE on Karras et al.'s σ steps (EDM, Karras et al. 2022, Alg. 1
/// with S_churn = 0), for a discrete model. In EDM's variables x̃ = x_t/√ᾱ_t and σ_t = √((1 − ᾱ_t)/ᾱ_t) the ODE is
/// dx̃/dσ = (x̃ − D(x̃; σ))/σ with the denoiser D = x̂_0. The N noise levels are σ_i = (σ_max^{1/ρ} + i/(N−1)(σ_min^{1/ρ} −
/// σ_max^{1/ρ}))^ρ, ρ = 7 (EDM eq. 5), from σ_T to σ_1, each moved to the nearest σ_t of the schedule (the network was
/// trained at integer steps; k-diffusion's "quantize"), then σ = 0. Every step but the last is an Euler step plus a
/// trapezoidal correction (2 evaluations); the last, to σ = 0, is Euler (x̃ = D): 2N − 1 network evaluations.
/// </summary>
public sealed class HeunKarrasSampler(double rho = 7.0, double? clipX0 = null) : DiscreteSampler
{
    public override string Name => "heun-karras";

    /// <summary>Its default grid: N Karras noise levels (<see cref="StepGrid.Karras"/>).</summary>
    public override int[] DefaultGrid(Schedules.NoiseSchedule schedule, int steps) => StepGrid.Karras(schedule, steps, rho);

    /// <summary>2 network evaluations per step but the last (Euler to σ = 0).</summary>
    public override int FunctionEvaluations(Schedules.NoiseSchedule schedule, IReadOnlyList<int> grid) => 2 * grid.Count - 1;

    public override SampleResult Sample(DiscreteModel model, Tensor noise, IReadOnlyList<int> grid, NoiseGenerator? generator = null, Action<int, Tensor>? onStep = null)
    {
        var s = model.Schedule;
        var ts = StepGrid.Check(grid, s.Steps);
        double Sigma(int t) => t == 0 ? 0 : Math.Sqrt((1 - s.AlphaBar(t)) / s.AlphaBar(t));
        Tensor Denoise(Tensor xTilde, int t)
        {
            // D(x̃; σ_t) = x̂_0 of x_t = √ᾱ_t x̃
            return model.PredictX0(xTilde * Math.Sqrt(s.AlphaBar(t)), t, clipX0);
        }
        using var noGrad = torch.no_grad(); // sampling never backpropagates
        var x = (noise / Math.Sqrt(s.AlphaBar(ts[0]))).MoveToOuterDisposeScope(); // x_T ~ N(0, I) in EDM's scale
        int nfe = 0;
        for (int i = 0; i < ts.Length; i++)
        {
            using var scope = torch.NewDisposeScope();
            int t = ts[i], next = i + 1 < ts.Length ? ts[i + 1] : 0;
            double sigma = Sigma(t), sigmaNext = Sigma(next);
            var d = (x - Denoise(x, t)) / sigma; // dx̃/dσ (EDM Alg. 1, line 7)
            nfe++;
            var updated = x + (sigmaNext - sigma) * d; // Euler step (line 8)
            if (next != 0)
            {
                var dNext = (updated - Denoise(updated, next)) / sigmaNext; // line 10
                nfe++;
                updated = x + (sigmaNext - sigma) * (0.5 * d + 0.5 * dNext); // trapezoidal correction (line 11)
            }
            x.Dispose();
            x = updated.MoveToOuterDisposeScope();
            onStep?.Invoke(i + 1, next == 0 ? x : x * Math.Sqrt(s.AlphaBar(next)));
        }
        return new SampleResult(x, nfe); // σ = 0: x̃ = x_0
    }
}
