
namespace DiffusionLab.Sde;

/// <summary>
/// What the VP and sub-VP SDEs share (Song et al. 2021, eqs. 32–34 and App. B): the linear β(t) on [0, 1], the drift
/// f(x, t) = −½β(t)x, its mean coefficient α(t) = exp(−½∫₀ᵗβ(s)ds) and the prior N(0, I). They differ only in the
/// diffusion g(t) and so in the kernel's std.
/// </summary>
public abstract class LinearBetaSde : ISde
{
    public const double DefaultBetaMin = 0.1;
    public const double DefaultBetaMax = 20.0;

    protected LinearBetaSde(string what, double betaMin, double betaMax)
    {
        if (!double.IsFinite(betaMin) || !double.IsFinite(betaMax) || betaMin < 0 || betaMax <= 0 || betaMax < betaMin)
            throw new DiffusionLabException($"{what} SDE needs 0 <= beta_min <= beta_max and beta_max > 0, got beta_min={betaMin}, beta_max={betaMax}");
        BetaMin = betaMin;
        BetaMax = betaMax;
    }

    public abstract string Name { get; }

    public double EndTime => 1.0;

    public double BetaMin { get; }

    public double BetaMax { get; }

    // β(t) = β_min + t(β_max − β_min) (SBGM eq. 32, the continuous limit of β_i = β̄_i/N).
    protected Tensor Beta(Tensor t) => BetaMin + t * (BetaMax - BetaMin);

    // log α(t) = −½∫₀ᵗβ(s)ds = −¼t²(β_max − β_min) − ½tβ_min (SBGM eq. 33), in float64.
    protected Tensor LogMeanCoefficient(Tensor t)
    {
        var td = t.to_type(ScalarType.Float64);
        return -0.25 * td.square() * (BetaMax - BetaMin) - 0.5 * td * BetaMin;
    }

    // f(x, t) = −½β(t)x (SBGM eqs. 32 and 34).
    public Tensor Drift(Tensor x, Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        var beta = TensorOps.ToRankOf(Beta(t), x);
        return (-0.5 * beta * x).MoveToOuterDisposeScope();
    }

    public abstract Tensor Diffusion(Tensor t);

    // α(t) = exp(−¼t²(β_max − β_min) − ½tβ_min) (SBGM eq. 33; the same for sub-VP, App. B).
    public Tensor MeanCoefficient(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        return LogMeanCoefficient(t).exp().to_type(t.dtype).MoveToOuterDisposeScope();
    }

    public abstract Tensor MarginalStd(Tensor t);

    public Tensor PriorSample(long[] shape, Generator? generator = null) => GaussianPrior.Sample(shape, 1.0, generator);

    public Tensor PriorLogProb(Tensor z) => GaussianPrior.LogProb(z, 1.0);
}
