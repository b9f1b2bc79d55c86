
namespace DiffusionLab.Sde;

/// <summary>
/// The sub-VP SDE dx = −½β(t)x dt + √(β(t)(1 − e^{−2∫₀ᵗβ(s)ds})) dW (Song et al. 2021, eq. 34): the VP drift
/// with a smaller diffusion, so its kernel has the VP mean but std 1 − α(t)² ≤ √(1 − α(t)²); prior N(0, I).
/// </summary>
public sealed class SubVpSde : ISde
{
    public SubVpSde(double betaMin = VpSde.DefaultBetaMin, double betaMax = VpSde.DefaultBetaMax)
    {
        LinearBeta.Validate("sub-VP", betaMin, betaMax);
        BetaMin = betaMin;
        BetaMax = betaMax;
    }

    public string Name => "subvp";

    public double EndTime => 1.0;

    public double BetaMin { get; }

    public double BetaMax { get; }

    // f(x, t) = −½β(t)x (SBGM eq. 34).
    public Tensor Drift(Tensor x, Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        var beta = TensorOps.ToRankOf(LinearBeta.Beta(t, BetaMin, BetaMax), x);
        return (-0.5 * beta * x).MoveToOuterDisposeScope();
    }

    // g(t) = √(β(t)(1 − e^{−2∫₀ᵗβ(s)ds})), with ∫₀ᵗβ = −2 log α(t) (SBGM eq. 34).
    public Tensor Diffusion(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        var discount = -(4 * LinearBeta.LogMeanCoefficient(t, BetaMin, BetaMax)).expm1();
        var beta = LinearBeta.Beta(t.to_type(ScalarType.Float64), BetaMin, BetaMax);
        return (beta * discount).sqrt().to_type(t.dtype).MoveToOuterDisposeScope();
    }

    // α(t) = exp(−½∫₀ᵗβ(s)ds), as for VP (SBGM App. B, the kernel of eq. 34).
    public Tensor MeanCoefficient(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        return LinearBeta.LogMeanCoefficient(t, BetaMin, BetaMax).exp().to_type(t.dtype).MoveToOuterDisposeScope();
    }

    // σ(t) = 1 − e^{−∫₀ᵗβ(s)ds} = 1 − α(t)², a std and not a variance (SBGM App. B, the kernel of eq. 34).
    public Tensor MarginalStd(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        return (-(2 * LinearBeta.LogMeanCoefficient(t, BetaMin, BetaMax)).expm1()).to_type(t.dtype).MoveToOuterDisposeScope();
    }

    public Tensor PriorSample(long[] shape, Generator? generator = null) => GaussianPrior.Sample(shape, 1.0, generator);

    public Tensor PriorLogProb(Tensor z) => GaussianPrior.LogProb(z, 1.0);
}
