using DiffusionLab.Sde;

namespace DiffusionLab.Samplers.Sde;

/// <summary>The predictor of <see cref="PredictorCorrectorSampler"/>.</summary>
public enum PcPredictor
{
    /// <summary>Reverse diffusion (Song et al. 2021, eq. 46) on the exact Gaussian transition of the forward SDE.</summary>
    ReverseDiffusion,
    /// <summary>An Euler–Maruyama step of the reverse SDE (Song et al. 2021, eq. 6).</summary>
    EulerMaruyama,
}

/// <summary>
/// Predictor–corrector sampling (Song et al. 2021, Alg. 1 with the Langevin corrector of Alg. 4/5): at each time
/// t_i of a uniform grid from T to ε_t, <c>correctorSteps</c> Langevin steps at t_i, then one predictor step to t_{i+1}.
/// </summary>
/// <remarks>
/// <para>Reverse-diffusion predictor: the step t → s (s &lt; t) reverses the forward transition
/// x_t = r·x_s + G·z with r = α(t)/α(s), G² = σ(t)² − r²σ(s)² — the exact kernel between the two times, which any SDE
/// with a Gaussian kernel of mean α(t)x_0 has. This is score_sde's discretisation for VP (r = √(1 − β_i), G = √β_i) and
/// VE (r = 1, G² = σ_i² − σ_{i−1}²) and extends it to sub-VP and OU. The update is x_s = x_t − (r − 1)x_t + G²s_θ(x_t, t) + G·z.</para>
/// <para>Langevin corrector, as score_sde's <c>LangevinCorrector</c>: z ~ N(0, I), step ε = 2a(snr·‖z‖/‖s_θ‖)² with
/// both norms averaged over the batch, x ← x + ε s_θ + √(2ε) z. The factor a is taken as r² = (α(t_i)/α(t_{i+1}))² ≤ 1 of the
/// current step for every SDE — score_sde's α_i = 1 − β_i for VP and sub-VP and exactly 1 for VE (where α ≡ 1); for OU
/// it is e^{−Δt}. No type checks are needed.</para>
/// <para>The last predictor step returns its mean without noise (score_sde's <c>denoise=True</c>). Network evaluations:
/// steps·(correctorSteps + 1).</para>
/// </remarks>
public sealed class PredictorCorrectorSampler : ISampler<ScoreModel>
{
    public const double DefaultSnr = 0.16;

    private readonly double _endTime;

    public PredictorCorrectorSampler(PcPredictor predictor = PcPredictor.ReverseDiffusion, double snr = DefaultSnr, int correctorSteps = 1,
        double endTime = SdeSampling.DefaultEndTime)
    {
        if (!double.IsFinite(snr) || snr <= 0) throw new DiffusionLabException($"corrector snr must be positive, got {snr}");
        if (correctorSteps < 0) throw new DiffusionLabException($"corrector steps must be 0 or more, got {correctorSteps}");
        Predictor = predictor;
        Snr = snr;
        CorrectorSteps = correctorSteps;
        _endTime = endTime;
    }

    public string Name => "pc";

    public PcPredictor Predictor { get; }

    /// <summary>The corrector's target signal-to-noise ratio ‖ε s_θ‖ / ‖√(2ε) z‖ (Song et al. 2021, Alg. 4–5, r).</summary>
    public double Snr { get; }

    public int CorrectorSteps { get; }

    public SampleResult Sample(ScoreModel model, Tensor noise, int steps, NoiseGenerator? generator = null, Action<int, Tensor>? onStep = null)
    {
        SdeSampling.CheckNoise(noise);
        var sde = model.Sde;
        var grid = SdeSampling.TimeGrid(sde, _endTime, steps);
        using var noGrad = torch.no_grad();
        var x = noise.alias();
        long b = x.shape[0];
        for (int i = 0; i < steps; i++)
        {
            using var scope = torch.NewDisposeScope();
            double tNow = grid[i], tNext = grid[i + 1];
            var t = TensorOps.Times(x, tNow);
            double r = Coefficient(sde.MeanCoefficient, tNow) / Coefficient(sde.MeanCoefficient, tNext); // α(t)/α(s)
            var xi = x;
            for (int j = 0; j < CorrectorSteps; j++)
            {
                var score = model.Score(xi, t);
                var z = SdeSampling.Noise(xi, generator);
                var gradNorm = score.reshape(b, -1).norm(1).mean();
                var noiseNorm = z.reshape(b, -1).norm(1).mean();
                var eps = 2 * r * r * (Snr * noiseNorm / gradNorm).square(); // ε = 2α(snr‖z‖/‖s‖)² (SBGM Alg. 4–5, score_sde)
                xi = xi + eps * score + (2 * eps).sqrt() * z;                 // Langevin step (SBGM Alg. 4–5)
            }
            var s = model.Score(xi, t);
            Tensor mean, g;
            if (Predictor == PcPredictor.ReverseDiffusion)
            {
                double sigmaNow = Coefficient(sde.MarginalStd, tNow), sigmaNext = Coefficient(sde.MarginalStd, tNext);
                double g2 = Math.Max(sigmaNow * sigmaNow - r * r * sigmaNext * sigmaNext, 0.0);
                mean = xi - (r - 1) * xi + g2 * s; // x_{i} = x_{i+1} − f_{i+1} + G²_{i+1} s_θ (SBGM eq. 46)
                g = torch.full(b, Math.Sqrt(g2), dtype: x.dtype, device: x.device);
            }
            else
            {
                double dt = tNow - tNext;
                mean = xi - sde.ReverseDrift(xi, t, s, probabilityFlow: false) * dt; // Euler–Maruyama on SBGM eq. 6
                g = sde.Diffusion(t) * Math.Sqrt(dt);
            }
            var next = i == steps - 1 ? mean : mean + TensorOps.ToRankOf(g, x) * SdeSampling.Noise(x, generator); // + G z
            x.Dispose();
            x = next.MoveToOuterDisposeScope();
            onStep?.Invoke(i + 1, x);
        }
        return new SampleResult(x, steps * (CorrectorSteps + 1));
    }

    private static double Coefficient(Func<Tensor, Tensor> f, double t)
    {
        using var scope = torch.NewDisposeScope();
        return f(torch.tensor(new[] { t }, dtype: ScalarType.Float64)).to_type(ScalarType.Float64).item<double>();
    }
}
