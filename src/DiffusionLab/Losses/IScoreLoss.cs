using DiffusionLab.Sde;

namespace DiffusionLab.Losses;

/// <summary>
/// A score-matching objective for a continuous-time <see cref="ScoreModel"/>: draws t ~ U(ε_t, T) and
/// x_t ~ p_{0t}(· | x_0) for each sample of the batch and returns a scalar to minimise (with its graph).
/// Random draws, in order: t, then the noise ε, then whatever else the objective needs.
/// </summary>
public interface IScoreLoss
{
    string Name { get; }

    /// <param name="model">The SDE and network.</param>
    /// <param name="x0">A batch of data, [B, …] of any rank.</param>
    /// <param name="generator">Optional CPU generator for reproducible draws.</param>
    Tensor Compute(ScoreModel model, Tensor x0, Generator? generator);
}
