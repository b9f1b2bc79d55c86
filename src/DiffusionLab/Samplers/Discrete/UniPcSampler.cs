using DiffusionLab.Denoisers;
using DiffusionLab.Schedules;

namespace DiffusionLab.Samplers.Discrete;

/// <summary>
/// UniPC (Zhao et al. 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of Diffusion Models"),
/// second order, data prediction, B(h) = e^{−h} − 1 ("bh2"), over the strided steps τ. Each step t_{i−1} → t_i is the
/// predictor UniP-2 (with ρ = ½ it is DPM-Solver++(2M)); the network's x̂_0 at the predicted x_{t_i} — which the next
/// predictor needs anyway — then feeds the corrector UniC, which redoes the step with that value included,
/// raising the order by one at no extra network evaluation. One evaluation per step; no correction after the last
/// step. The first step (no history), the step into τ_1 (where λ jumps) and the last step to t = 0 are first order.
/// <paramref name="corrector"/> = false leaves the predictor alone (diffusers' disable_corrector), i.e. DPM-Solver++(2M).
/// </summary>
public sealed class UniPcSampler(double? clipX0 = null, bool corrector = true) : DiscreteSampler
{
    public override string Name => corrector ? "unipc" : "unip";

    /// <summary>
    /// The corrector's weights ρ for a step of size h = λ_t − λ_s with earlier points at ratios <paramref name="ratios"/>
    /// r_k = (λ_{s_k} − λ_s)/h and the new point at r = 1: the solution of Σ_k ρ_k r_k^{i−1} = i! φ_{i+1}(h)/B(h),
    /// i = 1..p, with φ_1 = e^{−h} − 1 and φ_{k+1} = φ_k/(−h) − 1/k! (Zhao et al. 2023, UniC's order conditions with
    /// B(h) = e^{−h} − 1, "bh2"). With no earlier point ρ = b_1, which tends to the ½ that diffusers and the authors' code fix
    /// (on the Gaussian test the two agree to 4 digits; b_1 is the value the conditions give at any h).
    /// </summary>
    public static double[] CorrectorWeights(double h, IReadOnlyList<double> ratios)
    {
        if (ratios.Count > 1) throw new ArgumentException("UniPC here is second order: at most one earlier point", nameof(ratios));
        double hh = -h, phi1 = double.ExpM1(hh), bh = phi1;
        double phi2 = phi1 / hh - 1, phi3 = phi2 / hh - 0.5;
        double b1 = phi2 / bh, b2 = 2 * phi3 / bh;
        if (ratios.Count == 0) return [b1];
        double r1 = ratios[0];
        double rho1 = (b1 - b2) / (1 - r1); // [[1, 1], [r1, 1]] ρ = [b1, b2]
        return [rho1, b1 - rho1];
    }

    public override SampleResult Sample(DiscreteModel model, Tensor noise, IReadOnlyList<int> grid, NoiseGenerator? generator = null, Action<int, Tensor>? onStep = null)
    {
        var s = model.Schedule;
        var taus = StepGrid.Check(grid, s.Steps);
        using var noGrad = torch.no_grad(); // sampling never backpropagates
        var x = noise.alias();
        Tensor? start = null, m0 = null, mEarlier = null; // the last step's starting x and x̂_0 there; x̂_0 one step before
        int lastOrder = 0;
        for (int i = 0; i < taus.Length; i++)
        {
            using var scope = torch.NewDisposeScope();
            int t = taus[i], next = i + 1 < taus.Length ? taus[i + 1] : 0;
            var m = model.PredictX0(x, t, clipX0);
            if (corrector && start is not null && m0 is not null)
            {
                // UniC: redo the step taus[i−1] → t with x̂_0(t) at the predicted x (Zhao et al. 2023, UniC)
                int s0 = taus[i - 1];
                double h = s.Lambda(t) - s.Lambda(s0), bh = double.ExpM1(-h);
                var ddim = s.SqrtOneMinusAlphaBar(t) / s.SqrtOneMinusAlphaBar(s0) * start - s.SqrtAlphaBar(t) * bh * m0;
                double[] ratios = lastOrder == 2 ? [(s.Lambda(taus[i - 2]) - s.Lambda(s0)) / h] : [];
                var rho = CorrectorWeights(h, ratios);
                var correction = rho[^1] * (m - m0);
                if (ratios.Length == 1) correction = correction + rho[0] * (mEarlier! - m0) / ratios[0];
                var corrected = ddim - s.SqrtAlphaBar(t) * bh * correction;
                x.Dispose();
                x = corrected;
            }
            Tensor updated;
            int order = 1;
            if (next == 0) updated = m.alias(); // σ_0 = 0: x_0 = x̂_0
            else
            {
                double h = s.Lambda(next) - s.Lambda(t), bh = double.ExpM1(-h);
                updated = s.SqrtOneMinusAlphaBar(next) / s.SqrtOneMinusAlphaBar(t) * x - s.SqrtAlphaBar(next) * bh * m; // DDIM, the first-order part
                if (m0 is not null && i < taus.Length - 2)
                {
                    // UniP-2 with ρ = ½: D1 = (x̂_0(t_{i−1}) − x̂_0(t))/r_1, r_1 = (λ_{t_{i−1}} − λ_t)/h (Zhao et al. 2023, UniP)
                    double r1 = (s.Lambda(taus[i - 1]) - s.Lambda(t)) / h;
                    updated = updated - s.SqrtAlphaBar(next) * bh * 0.5 * ((m0 - m) / r1);
                    order = 2;
                }
            }
            start?.Dispose();
            start = x.MoveToOuterDisposeScope();
            mEarlier?.Dispose();
            mEarlier = m0;
            m0 = m.MoveToOuterDisposeScope();
            lastOrder = order;
            x = updated.MoveToOuterDisposeScope();
            onStep?.Invoke(i + 1, x);
        }
        start?.Dispose();
        m0?.Dispose();
        mEarlier?.Dispose();
        return new SampleResult(x, taus.Length);
    }
}
