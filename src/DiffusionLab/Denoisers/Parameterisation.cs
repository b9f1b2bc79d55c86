
namespace DiffusionLab.Denoisers;

/// <summary>What a network's output means. For x_t = α·x_0 + σ·ε every form converts to the others.</summary>
public enum Parameterisation
{
    /// <summary>The noise ε (Ho et al. 2020, eq. 11).</summary>
    Epsilon,
    /// <summary>The clean data x_0.</summary>
    X0,
    /// <summary>The velocity v = α·ε − σ·x_0 (Salimans &amp; Ho 2022, §4); needs α² + σ² = 1.</summary>
    V,
    /// <summary>The score ∇ log p_t(x) = −ε/σ (Song et al. 2021, eq. 7 target).</summary>
    Score,
}

/// <summary>A network's prediction in the two forms samplers use.</summary>
public readonly record struct Prediction(Tensor Epsilon, Tensor X0)
{
    /// <summary>∇_x log p_t(x) = −ε/σ for a Gaussian perturbation of std σ (Vincent 2011; Song et al. 2021, §3.3).</summary>
    public Tensor Score(Tensor sigma) => -Epsilon / sigma;
}

/// <summary>
/// Conversions between parameterisations for x_t = α x_0 + σ ε, with per-sample α and σ already broadcast to
/// the data's rank. One place for this arithmetic, used by every model wrapper, loss and sampler.
/// </summary>
public static class PredictionMath
{
    public static Prediction FromOutput(Parameterisation p, Tensor output, Tensor x, Tensor alpha, Tensor sigma) => p switch
    {
        Parameterisation.Epsilon => new(output, (x - sigma * output) / alpha),
        Parameterisation.X0 => new((x - alpha * output) / sigma, output),
        // Salimans & Ho 2022, §4: x_0 = α x − σ v, ε = σ x + α v (valid when α² + σ² = 1).
        Parameterisation.V => new(sigma * x + alpha * output, alpha * x - sigma * output),
        Parameterisation.Score => FromEpsilon(-sigma * output, x, alpha, sigma),
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    };

    private static Prediction FromEpsilon(Tensor eps, Tensor x, Tensor alpha, Tensor sigma) => new(eps, (x - sigma * eps) / alpha);

    /// <summary>The regression target for a network of parameterisation <paramref name="p"/>, given the true x_0 and ε.</summary>
    public static Tensor Target(Parameterisation p, Tensor x0, Tensor eps, Tensor alpha, Tensor sigma) => p switch
    {
        Parameterisation.Epsilon => eps,
        Parameterisation.X0 => x0,
        Parameterisation.V => alpha * eps - sigma * x0,
        Parameterisation.Score => -eps / sigma,
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    };

    public static Parameterisation Parse(string name) => name.ToLowerInvariant() switch
    {
        "eps" or "epsilon" => Parameterisation.Epsilon,
        "x0" => Parameterisation.X0,
        "v" => Parameterisation.V,
        "score" => Parameterisation.Score,
        _ => throw new DiffusionLabException($"unknown prediction '{name}' (choose from eps, x0, v, score)"),
    };
}
