using DiffusionLab.Sde;

namespace DiffusionLab.Losses;

/// <summary>
/// Denoising score matching (Vincent 2011) in continuous time (Song et al. 2021, eq. 7):
/// E_t E_{x_0} E_ε [λ(t)·‖s_θ(x_t, t) + ε/σ(t)‖²] with λ(t) = σ(t)² ∝ 1/E‖∇ log p_{0t}(x_t | x_0)‖², summed over
/// the data dimensions and averaged over the batch — score_sde's loss without likelihood weighting.
/// Since λ‖s_θ + ε/σ‖² = ‖σ s_θ + ε‖² and s_θ = −ε̂/σ, for an ε-parameterised network this is exactly ‖ε̂ − ε‖².
/// </summary>
public sealed class DenoisingScoreMatching(double minTime = ScoreLossSampling.DefaultMinTime) : IScoreLoss
{
    public string Name => "dsm";

    public Tensor Compute(ScoreModel model, Tensor x0, Generator? generator)
    {
        using var scope = torch.NewDisposeScope();
        var p = ScoreLossSampling.Draw(model.Sde, x0, minTime, generator);
        var score = model.Score(p.Xt, p.Time);
        // λ(t)‖s_θ + ε/σ‖² with λ = σ² equals ‖σ s_θ + ε‖² (SBGM eq. 7; Vincent 2011's DSM at each σ).
        var perSample = (p.Sigma * score + p.Noise).square().reshape(x0.shape[0], -1).sum(1);
        return perSample.mean().MoveToOuterDisposeScope();
    }
}
