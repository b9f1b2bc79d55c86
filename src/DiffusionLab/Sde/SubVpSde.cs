
namespace DiffusionLab.Sde;

/// <summary>
/// The sub-VP SDE dx = −½β(t)x dt + √(β(t)(1 − e^{−2∫₀ᵗβ(s)ds})) dW (Song et al. 2021, eq. 34): the VP drift
/// with a smaller diffusion, so its kernel has the VP mean but std 1 − α(t)² ≤ √(1 − α(t)²); prior N(0, I).
/// </summary>
public sealed class SubVpSde(double betaMin = LinearBetaSde.DefaultBetaMin, double betaMax = LinearBetaSde.DefaultBetaMax)
    : LinearBetaSde("sub-VP", betaMin, betaMax)
{
    public override string Name => "subvp";

    // g(t) = √(β(t)(1 − e^{−2∫₀ᵗβ(s)ds})), with ∫₀ᵗβ = −2 log α(t) (SBGM eq. 34).
    public override Tensor Diffusion(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        var discount = -(4 * LogMeanCoefficient(t)).expm1();
        var beta = Beta(t.to_type(ScalarType.Float64));
        return (beta * discount).sqrt().to_type(t.dtype).MoveToOuterDisposeScope();
    }

    // σ(t) = 1 − e^{−∫₀ᵗβ(s)ds} = 1 − α(t)², a std and not a variance (SBGM App. B, the kernel of eq. 34).
    public override Tensor MarginalStd(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        return (-(2 * LogMeanCoefficient(t)).expm1()).to_type(t.dtype).MoveToOuterDisposeScope();
    }
}
