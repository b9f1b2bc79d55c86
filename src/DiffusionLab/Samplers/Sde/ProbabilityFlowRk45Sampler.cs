using DiffusionLab.Sde;

namespace DiffusionLab.Samplers.Sde;

/// <summary>
/// The probability-flow ODE dx/dt = f(x, t) − ½g(t)² ∇ log p_t(x) (Song et al. 2021, eq. 13) integrated from T to ε_t
/// by the adaptive Dormand–Prince 5(4) method (Dormand &amp; Prince 1980) — what score_sde gets from
/// <c>scipy.integrate.solve_ivp(method="RK45")</c>. The whole batch is one ODE state whose error is the RMS of
/// err/(atol + rtol·max(|x|, |x_new|)) over all elements; the step size follows Hairer, Nørsett &amp; Wanner (1993, §II.4).
/// </summary>
/// <remarks>
/// The state is kept in float64 (for a meaningful error estimate at tight tolerances); the network sees it in
/// the dtype of the given noise, and the samples come back in that dtype. <c>steps</c> is only a guard: more attempted
/// steps than that throw. Network evaluations: 2 to start (f(x_T) and the initial-step probe), then 6 per attempted
/// step thanks to first-same-as-last; the exact count is reported.
/// </remarks>
public sealed class ProbabilityFlowRk45Sampler : ISampler<ScoreModel>
{
    public const double DefaultTolerance = 1e-5;

    // Dormand–Prince 5(4) tableau (Dormand & Prince 1980; Hairer et al. 1993, §II.5).
    private static readonly double[] C = [0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1];
    private static readonly double[][] A =
    [
        [],
        [1.0 / 5],
        [3.0 / 40, 9.0 / 40],
        [44.0 / 45, -56.0 / 15, 32.0 / 9],
        [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
        [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
        [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84],
    ];
    // Fifth-order weights minus the embedded fourth-order ones: the local error estimate's weights.
    private static readonly double[] E =
        [71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40];

    private const double Safety = 0.9, MinFactor = 0.2, MaxFactor = 10.0;

    private readonly double _endTime;

    public ProbabilityFlowRk45Sampler(double rtol = DefaultTolerance, double atol = DefaultTolerance, double endTime = SdeSampling.DefaultEndTime)
    {
        if (!(rtol > 0) || !(atol > 0) || !double.IsFinite(rtol) || !double.IsFinite(atol))
            throw new DiffusionLabException($"rk45 tolerances must be positive, got rtol={rtol}, atol={atol}");
        RelativeTolerance = rtol;
        AbsoluteTolerance = atol;
        _endTime = endTime;
    }

    public string Name => "ode-rk45";

    public double RelativeTolerance { get; }

    public double AbsoluteTolerance { get; }

    public SampleResult Sample(ScoreModel model, Tensor noise, int steps, NoiseGenerator? generator = null, Action<int, Tensor>? onStep = null)
    {
        SdeSampling.CheckNoise(noise);
        SdeSampling.CheckSteps(steps);
        var sde = model.Sde;
        SdeSampling.CheckEndTime(sde, _endTime);
        using var noGrad = torch.no_grad();
        var dtype = noise.dtype;
        int nfe = 0;

        // dx/dt of SBGM eq. 13 at (x, t), evaluated in the noise's dtype and returned in float64.
        Tensor F(Tensor x, double t)
        {
            using var scope = torch.NewDisposeScope();
            var xm = x.to_type(dtype);
            var tt = TensorOps.Times(xm, t);
            nfe++;
            return sde.ReverseDrift(xm, tt, model.Score(xm, tt), probabilityFlow: true).to_type(ScalarType.Float64).MoveToOuterDisposeScope();
        }

        double t0 = sde.EndTime, t1 = _endTime, span = t0 - t1;
        var y = noise.to_type(ScalarType.Float64);
        if (ReferenceEquals(y, noise) || y.Handle == noise.Handle) y = noise.alias();
        var k1 = F(y, t0);
        double h = InitialStep(F, y, k1, t0, span);
        double t = t0;
        int attempts = 0, accepted = 0;
        while (t > t1)
        {
            if (++attempts > steps)
            {
                y.Dispose();
                k1.Dispose();
                throw new DiffusionLabException(
                    $"{Name} needed more than `steps` = {steps} steps to reach t={t1} (stopped at t={t:G4}); raise `steps` or loosen rtol/atol");
            }
            bool last = h >= (t - t1) * (1 - 1e-12);
            if (last) h = t - t1; // land exactly on ε_t
            using var scope = torch.NewDisposeScope();
            var k = new Tensor[7];
            k[0] = k1;
            for (int s = 1; s < 7; s++)
            {
                var ys = y.alias();
                for (int j = 0; j < s; j++)
                    if (A[s][j] != 0) ys = ys - h * A[s][j] * k[j]; // x + (−h)Σ a_sj k_j: stepping backwards in time
                k[s] = F(ys, t - C[s] * h);
            }
            var yNew = y.alias();
            for (int j = 0; j < 6; j++)
                if (A[6][j] != 0) yNew = yNew - h * A[6][j] * k[j]; // fifth-order solution (b = last row of A)
            var err = torch.zeros_like(y);
            for (int j = 0; j < 7; j++)
                if (E[j] != 0) err = err - h * E[j] * k[j];          // x₅ − x₄ (Hairer et al. 1993, §II.4)
            var scale = AbsoluteTolerance + RelativeTolerance * torch.maximum(y.abs(), yNew.abs());
            double errNorm = (err / scale).square().mean().sqrt().item<double>(); // RMS norm (Hairer et al. 1993, §II.4)
            if (!double.IsFinite(errNorm))
            {
                y.Dispose();
                k1.Dispose();
                throw new DiffusionLabException($"{Name}: the ODE state stopped being finite at t={t:G4}");
            }
            if (errNorm <= 1)
            {
                t = last ? t1 : t - h;
                y.Dispose();
                k1.Dispose();
                y = yNew.MoveToOuterDisposeScope();
                k1 = k[6].MoveToOuterDisposeScope(); // first same as last
                accepted++;
                if (onStep is not null)
                {
                    var view = y.to_type(dtype);
                    onStep(accepted, view);
                    if (!ReferenceEquals(view, y)) view.Dispose();
                }
                h *= errNorm == 0 ? MaxFactor : Math.Clamp(Safety * Math.Pow(errNorm, -0.2), MinFactor, MaxFactor);
            }
            else
            {
                h *= Math.Max(MinFactor, Safety * Math.Pow(errNorm, -0.2)); // k1 lives outside this scope and stays valid
            }
        }
        k1.Dispose();
        var result = y.to_type(dtype);
        if (!ReferenceEquals(result, y)) y.Dispose();
        return new SampleResult(result, nfe);
    }

    /// <summary>Initial step size for an order-4 error estimate (Hairer et al. 1993, §II.4, "starting step size"), costing one evaluation.</summary>
    private double InitialStep(Func<Tensor, double, Tensor> f, Tensor y0, Tensor f0, double t0, double span)
    {
        using var scope = torch.NewDisposeScope();
        var scale = AbsoluteTolerance + RelativeTolerance * y0.abs();
        double d0 = (y0 / scale).square().mean().sqrt().item<double>();
        double d1 = (f0 / scale).square().mean().sqrt().item<double>();
        double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
        h0 = Math.Min(h0, span);
        var y1 = y0 - h0 * f0;
        var f1 = f(y1, t0 - h0);
        double d2 = ((f1 - f0) / scale).square().mean().sqrt().item<double>() / h0;
        double h1 = Math.Max(d1, d2) <= 1e-15 ? Math.Max(1e-6, h0 * 1e-3) : Math.Pow(0.01 / Math.Max(d1, d2), 0.2);
        return Math.Min(Math.Min(100 * h0, h1), span);
    }
}
