
namespace DiffusionLab.Sde;

/// <summary>
/// The variance-preserving SDE dx = −½β(t)x dt + √β(t) dW with β(t) = β_min + t(β_max − β_min) on [0, 1],
/// the continuous limit of DDPM (Song et al. 2021, eqs. 11 and 32); prior N(0, I).
/// </summary>
public sealed class VpSde(double betaMin = LinearBetaSde.DefaultBetaMin, double betaMax = LinearBetaSde.DefaultBetaMax)
    : LinearBetaSde("VP", betaMin, betaMax)
{
    public override string Name => "vp";

    // g(t) = √β(t) (SBGM eq. 32).
    public override Tensor Diffusion(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        return Beta(t).sqrt().MoveToOuterDisposeScope();
    }

    // σ(t)² = 1 − α(t)² (SBGM eq. 33); −expm1 keeps small t accurate.
    public override Tensor MarginalStd(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        return (-(2 * LogMeanCoefficient(t)).expm1()).sqrt().to_type(t.dtype).MoveToOuterDisposeScope();
    }
}
