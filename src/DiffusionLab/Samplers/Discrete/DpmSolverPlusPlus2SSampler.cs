using DiffusionLab.Denoisers;
using DiffusionLab.Schedules;

namespace DiffusionLab.Samplers.Discrete;

/// <summary>
/// DPM-Solver++(2S) (Lu et al. 2022, "DPM-Solver++", Alg. 1): a second-order singlestep solver of the probability-flow
/// ODE in the data-prediction form. Each step t → s of the strided steps τ (<see cref="Schedules.StepGrid.Uniform"/>) first
/// takes a DDIM step to an intermediate step u with λ_u ≈ (λ_t + λ_s)/2 (λ = log(α/σ)), evaluates the network there and
/// then steps from t to s with D = (1 − 1/(2r)) x̂_0(t) + 1/(2r) x̂_0(u), r = (λ_u − λ_t)/h, h = λ_s − λ_t.
/// The discrete network was trained at integer steps, so u is the integer step nearest the λ midpoint and r its actual
/// ratio. A step with no integer between t and s, and the last step to t = 0 (λ = ∞), are first order (DDIM).
/// 2 network evaluations per step but the last. Needs no history, so it is exact from the first step on.
/// </summary>
public sealed class DpmSolverPlusPlus2SSampler(double? clipX0 = null) : DiscreteSampler
{
    public override string Name => "dpm++2s";

    /// <summary>The integer step strictly between <paramref name="next"/> and <paramref name="t"/> nearest the λ midpoint, or null.</summary>
    public static int? Midpoint(Schedules.NoiseSchedule s, int t, int next)
    {
        if (next == 0 || t - next < 2) return null;
        double target = 0.5 * (s.Lambda(t) + s.Lambda(next));
        int best = next + 1;
        for (int u = next + 2; u < t; u++)
            if (Math.Abs(s.Lambda(u) - target) < Math.Abs(s.Lambda(best) - target)) best = u;
        return best;
    }

    /// <summary>Network evaluations on a grid: 2 for each step with a midpoint, else 1.</summary>
    public override int FunctionEvaluations(Schedules.NoiseSchedule s, IReadOnlyList<int> grid)
    {
        var taus = StepGrid.Check(grid, s.Steps);
        return taus.Select((t, i) => Midpoint(s, t, i + 1 < taus.Length ? taus[i + 1] : 0) is null ? 1 : 2).Sum();
    }

    public override SampleResult Sample(DiscreteModel model, Tensor noise, IReadOnlyList<int> grid, NoiseGenerator? generator = null, Action<int, Tensor>? onStep = null)
    {
        var s = model.Schedule;
        var taus = StepGrid.Check(grid, s.Steps);
        using var noGrad = torch.no_grad(); // sampling never backpropagates
        var x = noise.alias();
        int nfe = 0;
        for (int i = 0; i < taus.Length; i++)
        {
            using var scope = torch.NewDisposeScope();
            int t = taus[i], next = i + 1 < taus.Length ? taus[i + 1] : 0;
            var x0 = model.PredictX0(x, t, clipX0);
            nfe++;
            Tensor updated;
            if (next == 0) updated = x0.alias(); // σ_0 = 0: x_0 = x̂_0
            else
            {
                double h = s.Lambda(next) - s.Lambda(t);
                var d = x0;
                if (Midpoint(s, t, next) is int u)
                {
                    double r = (s.Lambda(u) - s.Lambda(t)) / h;
                    var xu = s.SqrtOneMinusAlphaBar(u) / s.SqrtOneMinusAlphaBar(t) * x - s.SqrtAlphaBar(u) * (Math.Exp(-r * h) - 1) * x0; // Lu et al. 2022, Alg. 1: u_i (a DDIM step to u)
                    var x0u = model.PredictX0(xu, u, clipX0);
                    nfe++;
                    d = (1 - 1 / (2 * r)) * x0 + 1 / (2 * r) * x0u;                            // Alg. 1: D_i
                }
                updated = s.SqrtOneMinusAlphaBar(next) / s.SqrtOneMinusAlphaBar(t) * x - s.SqrtAlphaBar(next) * (Math.Exp(-h) - 1) * d;   // Alg. 1: x̃_{t_i}
            }
            x.Dispose();
            x = updated.MoveToOuterDisposeScope();
            onStep?.Invoke(i + 1, x);
        }
        return new SampleResult(x, nfe);
    }
}
