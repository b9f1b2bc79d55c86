
namespace DiffusionLab.Schedules;

/// <summary>
/// A discrete variance schedule β_1..β_T and every quantity derived from it (Ho et al. 2020, §2).
/// Steps use the paper's indexing: t = 1..T, and index 0 stands for clean data (β_0 = 0, ᾱ_0 = 1), so
/// every table below has T + 1 entries and <c>AlphaBar(t)</c> is exactly the paper's ᾱ_t.
/// Schedules are plain values: networks never store them, and samplers receive them as arguments.
/// </summary>
public sealed class NoiseSchedule
{
    private readonly double[] _beta;      // [0..T], _beta[0] = 0
    private readonly double[] _alphaBar;  // [0..T], _alphaBar[0] = 1

    /// <summary>Builds a schedule from β_1..β_T. Each β must be finite and in (0, 1].</summary>
    public NoiseSchedule(string name, IReadOnlyList<double> betas)
    {
        if (betas.Count < 1) throw new DiffusionLabException($"schedule '{name}': needs at least one step");
        Name = name;
        Steps = betas.Count;
        _beta = new double[Steps + 1];
        _alphaBar = new double[Steps + 1];
        _alphaBar[0] = 1.0;
        for (int t = 1; t <= Steps; t++)
        {
            double b = betas[t - 1];
            if (!double.IsFinite(b) || b <= 0 || b > 1)
                throw new DiffusionLabException(
                    $"schedule '{name}': beta at t={t} is {b:G6}, outside (0, 1]; a variance schedule needs 0 < beta <= 1");
            _beta[t] = b;
            _alphaBar[t] = _alphaBar[t - 1] * (1.0 - b); // ᾱ_t = Π_{s≤t} α_s (Ho et al. 2020, eq. 4)
        }
    }

    /// <summary>Name as given on the command line (e.g. "cosine").</summary>
    public string Name { get; }

    /// <summary>Number of diffusion steps T.</summary>
    public int Steps { get; }

    public double Beta(int t) => _beta[Check(t)];
    public double Alpha(int t) => 1.0 - _beta[Check(t)];
    public double AlphaBar(int t) => _alphaBar[Check(t)];
    public double SqrtAlpha(int t) => Math.Sqrt(Alpha(t));
    public double SqrtAlphaBar(int t) => Math.Sqrt(AlphaBar(t));
    public double SqrtOneMinusAlphaBar(int t) => Math.Sqrt(1.0 - AlphaBar(t));

    /// <summary>β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t, the variance of q(x_{t−1} | x_t, x_0) (Ho et al. 2020, eq. 7). β̃_1 = 0.</summary>
    public double PosteriorVariance(int t)
    {
        Check(t);
        if (t == 0) return 0.0;
        return (1.0 - _alphaBar[t - 1]) / (1.0 - _alphaBar[t]) * _beta[t];
    }

    /// <summary>SNR(t) = ᾱ_t / (1 − ᾱ_t) (Kingma et al. 2021, eq. 1 with α² = ᾱ, σ² = 1 − ᾱ). Infinite at t = 0.</summary>
    public double Snr(int t) => AlphaBar(t) / (1.0 - AlphaBar(t));

    /// <summary>log SNR(t) = log ᾱ_t − log(1 − ᾱ_t); −∞ where ᾱ_t = 0 (zero terminal SNR).</summary>
    public double LogSnr(int t) => Math.Log(AlphaBar(t)) - Math.Log(1.0 - AlphaBar(t));

    /// <summary>λ_t = log(α_t/σ_t) = ½ log SNR(t), DPM-Solver's time variable (Lu et al. 2022, DPM-Solver, its half-log-SNR), with α = √ᾱ, σ = √(1 − ᾱ).</summary>
    public double Lambda(int t) => 0.5 * LogSnr(t);

    /// <summary>
    /// ᾱ at a fractional step t ∈ [0, T], interpolating log ᾱ linearly between integer steps — the
    /// continuous extension of a discrete schedule used by DPM-Solver (Lu et al. 2022, App. D.1).
    /// </summary>
    public double AlphaBarAt(double t)
    {
        if (!(t >= 0 && t <= Steps)) throw new ArgumentOutOfRangeException(nameof(t), t, $"must be in [0, {Steps}]");
        int lo = (int)Math.Floor(t);
        if (lo == Steps) return _alphaBar[Steps];
        double w = t - lo;
        if (w == 0) return _alphaBar[lo];
        double a = _alphaBar[lo], b = _alphaBar[lo + 1];
        if (b == 0) return a * (1 - w); // log ᾱ is −∞ at a zero-terminal-SNR end: interpolate ᾱ itself
        return Math.Exp((1 - w) * Math.Log(a) + w * Math.Log(b));
    }

    /// <summary>A copy of one table indexed by t = 0..T, e.g. <c>Table(s.AlphaBar)</c>.</summary>
    public double[] Table(Func<int, double> quantity)
    {
        var v = new double[Steps + 1];
        for (int t = 0; t <= Steps; t++) v[t] = quantity(t);
        return v;
    }

    /// <summary>One table as a float64 tensor of length T + 1 on <paramref name="device"/>, for indexing with a step tensor.</summary>
    public Tensor TableTensor(Func<int, double> quantity, Device? device = null) =>
        torch.tensor(Table(quantity), dtype: ScalarType.Float64, device: device);

    /// <summary>
    /// Rescales so the last step has zero SNR while the first keeps its value (Lin et al. 2023, Algorithm 1):
    /// √ᾱ is shifted so √ᾱ_T = 0 and scaled so √ᾱ_1 is unchanged; β_T becomes 1.
    /// </summary>
    public NoiseSchedule RescaleZeroTerminalSnr()
    {
        double first = SqrtAlphaBar(1), last = SqrtAlphaBar(Steps);
        if (Steps < 2 || first - last <= 0)
            throw new DiffusionLabException($"schedule '{Name}': zero terminal SNR needs at least 2 steps with decreasing alpha_bar");
        var betas = new double[Steps];
        double prev = 1.0;
        for (int t = 1; t <= Steps; t++)
        {
            double s = (SqrtAlphaBar(t) - last) * first / (first - last);
            double ab = s * s;
            betas[t - 1] = 1.0 - ab / prev;
            prev = ab;
        }
        betas[Steps - 1] = 1.0; // exactly: ᾱ_T = 0
        return new NoiseSchedule(Name + "+ztsnr", betas);
    }

    private int Check(int t)
    {
        if ((uint)t > (uint)Steps) throw new ArgumentOutOfRangeException(nameof(t), t, $"step must be in [0, {Steps}]");
        return t;
    }
}
