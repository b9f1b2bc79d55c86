using DiffusionLab.Denoisers;
using DiffusionLab.Sde;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Sde;

/// <summary>
/// The exact score of p_t for Gaussian data x_0 ~ N(μ, s²I) under an SDE with kernel N(α x_0, σ² I):
/// x_t ~ N(αμ, (α²s² + σ²) I), so ∇ log p_t(x) = −(x − αμ)/(α²s² + σ²), optionally multiplied by
/// <c>scale</c> (a deliberately wrong model). As an ε-network it returns ε̂ = −σ·score instead.
/// μ is one value per trailing element of a sample, or a single value broadcast to all.
/// </summary>
internal sealed class GaussianScoreNetwork(ISde sde, double[] mean, double std, double scale = 1.0, bool asEpsilon = false)
    : nn.Module<Tensor, Tensor, Tensor>("GaussianScoreNetwork")
{
    public override Tensor forward(Tensor x, Tensor time)
    {
        using var scope = torch.NewDisposeScope();
        var t = time * sde.EndTime;
        var alpha = TensorOps.ToRankOf(sde.MeanCoefficient(t), x);
        var sigma = TensorOps.ToRankOf(sde.MarginalStd(t), x);
        var shape = new long[x.dim()];
        Array.Fill(shape, 1L);
        if (mean.Length > 1) shape[^1] = mean.Length;
        var mu = torch.tensor(mean, dtype: x.dtype, device: x.device).reshape(shape);
        var variance = alpha.square() * (std * std) + sigma.square();
        var score = -scale * (x - alpha * mu) / variance;
        return (asEpsilon ? -sigma * score : score).MoveToOuterDisposeScope();
    }

    public static ScoreModel Model(ISde sde, double[] mean, double std, double scale = 1.0) =>
        new(sde, new Denoiser(new GaussianScoreNetwork(sde, mean, std, scale), Parameterisation.Score));

    public static ScoreModel EpsilonModel(ISde sde, double[] mean, double std) =>
        new(sde, new Denoiser(new GaussianScoreNetwork(sde, mean, std, asEpsilon: true), Parameterisation.Epsilon));
}
