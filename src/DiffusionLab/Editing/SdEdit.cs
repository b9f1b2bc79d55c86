using DiffusionLab.Samplers.Discrete;
using DiffusionLab.Denoisers;
using DiffusionLab.Schedules;

namespace DiffusionLab.Editing;

/// <summary>
/// SDEdit (Meng et al. 2022, in discrete form): noise an input to level t₀ with q(x_{t₀} | x) (Ho et al. 2020,
/// eq. 4), then denoise with ancestral DDPM steps — the result is near the input and on the data manifold. Levels are
/// indices into the strided steps τ of <see cref="Schedules.StepGrid.Uniform"/>, as in CS180's i_start: 0 starts from pure
/// noise (a fresh sample; the input is ignored), K (the number of steps) returns the input unchanged.
/// </summary>
public static class SdEdit
{
    /// <summary>The level of a diffusers-style strength s ∈ [0, 1] (1 = all noise, 0 = the input): K − round(s·K).</summary>
    public static int StartFromStrength(double strength, int steps)
    {
        if (!(strength >= 0 && strength <= 1)) throw new DiffusionLabException($"`strength` must be in [0, 1], got {strength}");
        return steps - (int)Math.Round(strength * steps);
    }

    /// <summary>
    /// Edits <paramref name="image"/> [B, C, H, W] starting at level <paramref name="iStart"/> (0..<paramref name="steps"/>)
    /// with <paramref name="model"/> under its <see cref="DiscreteModel.Conditioning"/> (<c>model.With(…)</c>), x̂_0 clipped to
    /// [−c, c] at every step where <paramref name="clipX0"/> is set (as sampling does for the model).
    /// </summary>
    public static Tensor Run(DiscreteModel model, Tensor image, int iStart, int steps, NoiseGenerator? generator, Action<int, Tensor>? onStep = null, double? clipX0 = null)
    {
        var taus = StepGrid.Uniform(model.Schedule.Steps, steps);
        if (iStart < 0 || iStart > taus.Length)
            throw new DiffusionLabException($"the start level {iStart} is beyond the schedule: levels run from 0 (pure noise) to {taus.Length} (the input), with {taus.Length} steps");
        if (iStart == taus.Length) return image.clone();
        using var scope = torch.NewDisposeScope();
        var start = iStart == 0 ? NoiseGenerator.RandnLike(image, generator) : ForwardProcess.Sample(model.Schedule, image, taus[iStart], generator);
        var result = new DdpmSampler(clipX0: clipX0).SampleFrom(model, start, taus[iStart..], generator, onStep).Samples;
        return result.MoveToOuterDisposeScope();
    }
}
