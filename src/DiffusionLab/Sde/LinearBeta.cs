
namespace DiffusionLab.Sde;

/// <summary>The linear β(t) shared by the VP and sub-VP SDEs and its integral (Song et al. 2021, App. B).</summary>
internal static class LinearBeta
{
    public static void Validate(string sde, double betaMin, double betaMax)
    {
        if (!double.IsFinite(betaMin) || !double.IsFinite(betaMax) || betaMin < 0 || betaMax <= 0 || betaMax < betaMin)
            throw new DiffusionLabException($"{sde} SDE needs 0 <= beta_min <= beta_max and beta_max > 0, got beta_min={betaMin}, beta_max={betaMax}");
    }

    // β(t) = β_min + t(β_max − β_min) (SBGM eq. 32, the continuous limit of β_i = β̄_i/N).
    public static Tensor Beta(Tensor t, double betaMin, double betaMax) => betaMin + t * (betaMax - betaMin);

    // log α(t) = −½∫₀ᵗβ(s)ds = −¼t²(β_max − β_min) − ½tβ_min (SBGM eq. 33), in float64.
    public static Tensor LogMeanCoefficient(Tensor t, double betaMin, double betaMax)
    {
        var td = t.to_type(ScalarType.Float64);
        return -0.25 * td.square() * (betaMax - betaMin) - 0.5 * td * betaMin;
    }
}
