using DiffusionLab.Denoisers;

namespace DiffusionLab.Sde;

/// <summary>
/// A continuous-time model: an SDE and a denoiser network. The network sees x_t and t/T; its output is
/// read through its parameterisation with α = α(t), σ = σ(t) of the SDE's perturbation kernel.
/// </summary>
public sealed class ScoreModel(ISde sde, Denoiser denoiser)
{
    public ISde Sde { get; } = sde;
    public Denoiser Denoiser { get; } = denoiser;

    /// <summary>ε̂ and x̂_0 at (x, t); <paramref name="t"/> is [B] in (0, T].</summary>
    public Prediction Predict(Tensor x, Tensor t)
    {
        var alpha = TensorOps.ToRankOf(Sde.MeanCoefficient(t), x);
        var sigma = TensorOps.ToRankOf(Sde.MarginalStd(t), x);
        return Denoiser.Predict(x, t / Sde.EndTime, alpha, sigma);
    }

    /// <summary>s_θ(x, t) ≈ ∇_x log p_t(x) = −ε̂/σ(t).</summary>
    public Tensor Score(Tensor x, Tensor t) => Predict(x, t).Score(TensorOps.ToRankOf(Sde.MarginalStd(t), x));
}
