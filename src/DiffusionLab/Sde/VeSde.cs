
namespace DiffusionLab.Sde;

/// <summary>
/// The variance-exploding SDE dx = σ(t)√(2 log(σ_max/σ_min)) dW with σ(t) = σ_min(σ_max/σ_min)^t on [0, 1], the
/// continuous limit of NCSN's noise levels (Song et al. 2021, eqs. 9 and 30); prior N(0, σ_max² I).
/// </summary>
/// <remarks>
/// As in the paper (eq. 31) and score_sde, the kernel is taken to be N(x_0, σ(t)² I). Strictly the variance
/// accumulated from t = 0 is σ(t)² − σ_min²; with σ_min = 0.01 the difference (10⁻⁴) is below the data's scale.
/// </remarks>
public sealed class VeSde : ISde
{
    public const double DefaultSigmaMin = 0.01;
    public const double DefaultSigmaMax = 50.0;

    public VeSde(double sigmaMin = DefaultSigmaMin, double sigmaMax = DefaultSigmaMax)
    {
        if (!double.IsFinite(sigmaMin) || !double.IsFinite(sigmaMax) || sigmaMin <= 0 || sigmaMax <= sigmaMin)
            throw new DiffusionLabException($"VE SDE needs 0 < sigma_min < sigma_max, got sigma_min={sigmaMin}, sigma_max={sigmaMax}");
        SigmaMin = sigmaMin;
        SigmaMax = sigmaMax;
    }

    public string Name => "ve";

    public double EndTime => 1.0;

    public double SigmaMin { get; }

    public double SigmaMax { get; }

    // f(x, t) = 0 (SBGM eq. 30).
    public Tensor Drift(Tensor x, Tensor t) => torch.zeros_like(x);

    // g(t) = σ(t)√(2 log(σ_max/σ_min)) = √(dσ²/dt) (SBGM eq. 30).
    public Tensor Diffusion(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        return (Sigma(t) * Math.Sqrt(2 * Math.Log(SigmaMax / SigmaMin))).to_type(t.dtype).MoveToOuterDisposeScope();
    }

    // α(t) = 1: the VE SDE has no drift (SBGM eq. 31).
    public Tensor MeanCoefficient(Tensor t) => torch.ones_like(t);

    // σ(t) = σ_min(σ_max/σ_min)^t (SBGM eq. 31).
    public Tensor MarginalStd(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        return Sigma(t).to_type(t.dtype).MoveToOuterDisposeScope();
    }

    public Tensor PriorSample(long[] shape, Generator? generator = null) => GaussianPrior.Sample(shape, SigmaMax, generator);

    public Tensor PriorLogProb(Tensor z) => GaussianPrior.LogProb(z, SigmaMax);

    // σ(t) = σ_min(σ_max/σ_min)^t = σ_min·exp(t log(σ_max/σ_min)) (SBGM eq. 31), in float64.
    private Tensor Sigma(Tensor t) => SigmaMin * (t.to_type(ScalarType.Float64) * Math.Log(SigmaMax / SigmaMin)).exp();
}
