using DiffusionLab.Sde;

namespace DiffusionLab.Losses;

/// <summary>One draw of the perturbation every score loss starts from: t, ε, x_t and σ(t) broadcast to the data.</summary>
/// <param name="Time">Times t, [B].</param>
/// <param name="Noise">ε ~ N(0, I), shaped like x_0.</param>
/// <param name="Xt">x_t = α(t) x_0 + σ(t) ε.</param>
/// <param name="Sigma">σ(t) as [B, 1, …, 1].</param>
public readonly record struct PerturbedBatch(Tensor Time, Tensor Noise, Tensor Xt, Tensor Sigma);

/// <summary>Shared helpers of the score losses: the time/noise draw and the argument checks.</summary>
public static class ScoreLossSampling
{
    /// <summary>The default smallest training time, as score_sde's <c>eps=1e-5</c>: σ(t) must stay away from 0.</summary>
    public const double DefaultMinTime = 1e-5;

    /// <summary>
    /// t ~ U(ε_t, T) per sample and ε ~ N(0, I), drawn in that order from <paramref name="generator"/> on the CPU,
    /// then x_t = α(t) x_0 + σ(t) ε (Song et al. 2021, eq. 7's inner expectation). Tensors land in the current dispose scope.
    /// </summary>
    public static PerturbedBatch Draw(ISde sde, Tensor x0, double minTime, Generator? generator)
    {
        Check(sde, x0, minTime);
        long b = x0.shape[0];
        var t = (torch.rand(b, generator: generator) * (sde.EndTime - minTime) + minTime).to_type(x0.dtype).to(x0.device);
        var noise = torch.randn(x0.shape, dtype: x0.dtype, generator: generator).to(x0.device);
        var xt = sde.PerturbSample(x0, t, noise);
        var sigma = TensorOps.ToRankOf(sde.MarginalStd(t), x0);
        return new PerturbedBatch(t, noise, xt, sigma);
    }

    internal static void Check(ISde sde, Tensor x0, double minTime)
    {
        if (x0.dim() < 2 || x0.shape[0] < 1) throw new DiffusionLabException($"a score loss needs a batch [B, ...] with B >= 1, got shape [{string.Join(", ", x0.shape)}]");
        if (!(minTime > 0 && minTime < sde.EndTime))
            throw new DiffusionLabException($"the smallest training time must be in (0, {sde.EndTime}), got {minTime}");
    }
}
