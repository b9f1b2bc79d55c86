
namespace DiffusionLab.Conditioning;

/// <summary>
/// What classifier guidance needs of a classifier: a noise-aware p_φ(y | x_t, t) (Dhariwal &amp; Nichol 2021, §4.1) that
/// gives class logits for noisy images, and the schedule it was trained on. The evaluation classifier implements it;
/// guidance knows nothing else of it.
/// </summary>
public interface INoisyClassifier
{
    /// <summary>Whether it was trained on x_t at every step (a clean-image classifier cannot guide).</summary>
    bool NoiseAware { get; }

    /// <summary>T of the schedule it was trained on, and that schedule's name (for messages).</summary>
    int DiffusionSteps { get; }
    string NoiseSchedule { get; }

    /// <summary>Class logits [B, K] of x_t [B, C, H, W] at times t/T [B], computed with gradients to x_t (eval mode).</summary>
    Tensor NoisyLogits(Tensor x, Tensor time);
}
