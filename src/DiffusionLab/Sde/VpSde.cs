
namespace DiffusionLab.Sde;

/// <summary>
/// The variance-preserving SDE dx = −½β(t)x dt + √β(t) dW with β(t) = β_min + t(β_max − β_min) on [0, 1],
/// the continuous limit of DDPM (Song et al. 2021, eqs. 11 and 32); prior N(0, I).
/// </summary>
public sealed class VpSde : ISde
{
    public const double DefaultBetaMin = 0.1;
    public const double DefaultBetaMax = 20.0;

    public VpSde(double betaMin = DefaultBetaMin, double betaMax = DefaultBetaMax)
    {
        LinearBeta.Validate("VP", betaMin, betaMax);
        BetaMin = betaMin;
        BetaMax = betaMax;
    }

    public string Name => "vp";

    public double EndTime => 1.0;

    public double BetaMin { get; }

    public double BetaMax { get; }

    // f(x, t) = −½β(t)x (SBGM eq. 32).
    public Tensor Drift(Tensor x, Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        var beta = TensorOps.ToRankOf(LinearBeta.Beta(t, BetaMin, BetaMax), x);
        return (-0.5 * beta * x).MoveToOuterDisposeScope();
    }

    // g(t) = √β(t) (SBGM eq. 32).
    public Tensor Diffusion(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        return LinearBeta.Beta(t, BetaMin, BetaMax).sqrt().MoveToOuterDisposeScope();
    }

    // α(t) = exp(−¼t²(β_max − β_min) − ½tβ_min) (SBGM eq. 33).
    public Tensor MeanCoefficient(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        return LinearBeta.LogMeanCoefficient(t, BetaMin, BetaMax).exp().to_type(t.dtype).MoveToOuterDisposeScope();
    }

    // σ(t)² = 1 − α(t)² (SBGM eq. 33); −expm1 keeps small t accurate.
    public Tensor MarginalStd(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        return (-(2 * LinearBeta.LogMeanCoefficient(t, BetaMin, BetaMax)).expm1()).sqrt().to_type(t.dtype).MoveToOuterDisposeScope();
    }

    public Tensor PriorSample(long[] shape, Generator? generator = null) => GaussianPrior.Sample(shape, 1.0, generator);

    public Tensor PriorLogProb(Tensor z) => GaussianPrior.LogProb(z, 1.0);
}
