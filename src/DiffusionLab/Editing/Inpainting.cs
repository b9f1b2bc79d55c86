using DiffusionLab.Conditioning;
using DiffusionLab.Samplers.Discrete;
using DiffusionLab.Denoisers;
using DiffusionLab.Schedules;

namespace DiffusionLab.Editing;

/// <summary>Settings of <see cref="Inpainting"/>'s runs: its step count and RePaint's resampling schedule.</summary>
public sealed record InpaintOptions
{
    /// <summary>Denoising steps (strided over the schedule as in <see cref="Schedules.StepGrid.Uniform"/>).</summary>
    public int Steps { get; init; } = 50;
    /// <summary>RePaint's jump length j: how many steps to go back up when resampling.</summary>
    public int JumpLength { get; init; } = 5;
    /// <summary>RePaint's resample count r (1 = plain replacement, no resampling).</summary>
    public int Resamples { get; init; } = 1;
    /// <summary>Step size α of the manifold-constrained gradient (0 = plain replacement, no MCG).</summary>
    public double McgScale { get; init; } = InpaintingConstraint.DefaultMcgScale;
    /// <summary>Clip x̂_0 to [−c, c] at every step (null: off); the verbs pass the model's default, as sampling does.</summary>
    public double? ClipX0 { get; init; }
}

/// <summary>
/// Inpainting with an unconditional (or class-guided) model: every step is held to the known pixels by an
/// <see cref="InpaintingConstraint"/> (RePaint's replacement, optionally MCG's gradient), on RePaint's resampling
/// schedule (Lugmayr et al. 2022, §4.2: jump back j steps, r times). At the last step the known pixels are the original ones exactly.
/// </summary>
public static class Inpainting
{
    /// <summary>
    /// RePaint's schedule (its "jump" schedule, §4.2) over positions 0 (pure noise) … <paramref name="steps"/> (clean):
    /// walk down one position at a time; at every j-th position from the clean end, go back up j positions, r − 1 times.
    /// </summary>
    public static IReadOnlyList<int> Schedule(int steps, int jumpLength, int resamples)
    {
        if (jumpLength < 1) throw new DiffusionLabException($"`jumpLength` must be at least 1, got {jumpLength}");
        if (resamples < 1) throw new DiffusionLabException($"`resamples` must be at least 1, got {resamples}");
        if (resamples > 1 && jumpLength >= steps) throw new DiffusionLabException($"`jumpLength` ({jumpLength}) must be below the number of steps ({steps})");
        // jumps keyed by the distance from the clean end, as in RePaint's get_schedule_jump
        var jumps = new Dictionary<int, int>();
        for (int d = 0; d < steps - jumpLength; d += jumpLength) jumps[d] = resamples - 1;
        var positions = new List<int> { 0 };
        int p = 0;
        while (p < steps)
        {
            p++;
            positions.Add(p);
            if (jumps.TryGetValue(steps - p, out int left) && left > 0)
            {
                jumps[steps - p] = left - 1;
                for (int k = 0; k < jumpLength; k++) positions.Add(--p);
            }
        }
        return positions;
    }

    /// <summary>
    /// Fills the holes (<paramref name="mask"/> = 1, [1 or B, 1, H, W]) of <paramref name="image"/> [B, C, H, W] in [−1, 1]
    /// with <paramref name="model"/> under its <see cref="DiscreteModel.Conditioning"/> (<c>model.With(…)</c>). <paramref name="onStep"/> sees each new x.
    /// </summary>
    public static Tensor Run(DiscreteModel model, Tensor image, Tensor mask, InpaintOptions o, NoiseGenerator? generator, Action<int, Tensor>? onStep = null) =>
        Run(model, new InpaintingConstraint(image, mask, o.McgScale, o.ClipX0), o, generator, onStep);

    /// <summary>Samples under <paramref name="constraint"/> on RePaint's schedule of <paramref name="o"/> (its McgScale is the constraint's).</summary>
    public static Tensor Run(DiscreteModel model, InpaintingConstraint constraint, InpaintOptions o, NoiseGenerator? generator, Action<int, Tensor>? onStep = null)
    {
        var s = model.Schedule;
        var taus = StepGrid.Uniform(s.Steps, o.Steps);
        int Level(int position) => position < taus.Length ? taus[position] : 0;
        var schedule = Schedule(taus.Length, o.JumpLength, o.Resamples);
        var x = NoiseGenerator.RandnLike(constraint.Image, generator); // position 0: pure noise
        for (int i = 1; i < schedule.Count; i++)
        {
            using var scope = torch.NewDisposeScope();
            int from = Level(schedule[i - 1]), to = Level(schedule[i]);
            Tensor next;
            if (schedule[i] < schedule[i - 1])
            {
                // RePaint resampling: back up to the noisier level, x_b ~ q(x_b | x_a) = N(√(ᾱ_b/ᾱ_a) x_a, (1 − ᾱ_b/ᾱ_a) I)  (eq. 1 over a stride)
                double ratio = s.AlphaBar(to) / s.AlphaBar(from);
                next = Math.Sqrt(ratio) * x + Math.Sqrt(1 - ratio) * NoiseGenerator.RandnLike(x, generator);
            }
            else next = constraint.Replace(constraint.Step(model, x, from, to, generator), s, to, generator);
            x.Dispose();
            x = next.MoveToOuterDisposeScope();
            onStep?.Invoke(i, x);
        }
        return x;
    }

    /// <summary>The number of network evaluations of a run with these settings.</summary>
    public static int NetworkEvaluations(int totalSteps, InpaintOptions o)
    {
        var sched = Schedule(StepGrid.Uniform(totalSteps, o.Steps).Length, o.JumpLength, o.Resamples);
        return Enumerable.Range(1, sched.Count - 1).Count(i => sched[i] > sched[i - 1]);
    }
}
