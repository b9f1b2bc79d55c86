using DiffusionLab.Samplers.Discrete;
using DiffusionLab.Denoisers;
using DiffusionLab.Schedules;

namespace DiffusionLab.Editing;

/// <summary>Settings of <see cref="Inpainting.Run"/>.</summary>
public sealed record InpaintOptions
{
    /// <summary>Denoising steps (strided over the schedule as in <see cref="Schedules.StepGrid.Uniform"/>).</summary>
    public int Steps { get; init; } = 50;
    /// <summary>RePaint's jump length j: how many steps to go back up when resampling.</summary>
    public int JumpLength { get; init; } = 5;
    /// <summary>RePaint's resample count r (1 = plain replacement, no resampling).</summary>
    public int Resamples { get; init; } = 1;
    /// <summary>Step size α of the manifold-constrained gradient (0 = plain replacement, no MCG).</summary>
    public double McgScale { get; init; }
}

/// <summary>
/// Inpainting with an unconditional (or class-guided) model: RePaint (Lugmayr et al. 2022) replacement at every step,
/// x_{t−1} = m ⊙ x_{t−1}^unknown + (1 − m) ⊙ x_{t−1}^known with x^known ~ q(x_{t−1} | x_orig) (eq. 8; their m marks the known pixels), the optional
/// resampling schedule (jump back j steps, r times), and the optional manifold-constrained gradient of MCG
/// (Chung et al. 2022, §3; the official code's unsquared norm): before the replacement, x^unknown −= α ∇_{x_t} ‖(1 − m) ⊙ (x_orig − x̂_0(x_t))‖₂.
/// The mask m is 1 in the hole. At the last step the known pixels are the original ones exactly.
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
    public static Tensor Run(DiscreteModel model, Tensor image, Tensor mask, InpaintOptions o, Generator? generator, Action<int, Tensor>? onStep = null)
    {
        if (mask.dim() != 4 || mask.shape[2] != image.shape[2] || mask.shape[3] != image.shape[3])
            throw new DiffusionLabException($"the mask is {mask.shape[^1]}×{mask.shape[^2]} but the image is {image.shape[3]}×{image.shape[2]}");
        if (o.McgScale < 0) throw new DiffusionLabException($"`McgScale` must be non-negative, got {o.McgScale}");
        var s = model.Schedule;
        var taus = StepGrid.Uniform(s.Steps, o.Steps);
        int Level(int position) => position < taus.Length ? taus[position] : 0;
        var schedule = Schedule(taus.Length, o.JumpLength, o.Resamples);
        var m = mask.to(image.device).to(image.dtype);
        var keep = 1 - m;
        var x = TensorOps.RandnLike(image, generator); // position 0: pure noise
        for (int i = 1; i < schedule.Count; i++)
        {
            using var scope = torch.NewDisposeScope();
            int from = Level(schedule[i - 1]), to = Level(schedule[i]);
            Tensor next;
            if (schedule[i] < schedule[i - 1])
            {
                // RePaint resampling: back up to the noisier level, x_b ~ q(x_b | x_a) = N(√(ᾱ_b/ᾱ_a) x_a, (1 − ᾱ_b/ᾱ_a) I)  (eq. 1 over a stride)
                double ratio = s.AlphaBar(to) / s.AlphaBar(from);
                next = Math.Sqrt(ratio) * x + Math.Sqrt(1 - ratio) * TensorOps.RandnLike(x, generator);
            }
            else
            {
                var unknown = o.McgScale > 0 ? McgStep(model, x, image, keep, from, to, o.McgScale, generator) : PlainStep(model, x, from, to, generator);
                var known = ForwardProcess.Sample(s, image, to, generator); // eq. 8, first line; at level 0, the original itself
                next = m * unknown + keep * known;                           // eq. 8, third line
            }
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

    private static Tensor PlainStep(DiscreteModel model, Tensor x, int t, int prev, Generator? generator)
    {
        using var noGrad = torch.no_grad();
        var x0 = model.Predict(x, t).X0;
        return DdpmSampler.Step(model.Schedule, x, x0, t, prev, generator);
    }

    private static Tensor McgStep(DiscreteModel model, Tensor x, Tensor image, Tensor keep, int t, int prev, double alpha, Generator? generator)
    {
        using var grad = torch.enable_grad();
        var xin = x.detach().requires_grad_(true);
        var x0 = model.Predict(xin, t).X0;
        // ‖W(y − H x̂_0)‖ per image (W = the known pixels; the unsquared norm, as MCG's and DPS's code use for a
        // step size that does not depend on the residual's scale), summed so each image gets its own gradient.
        var residual = (keep * (image - x0)).flatten(1).norm(1).sum();
        var g = torch.autograd.grad([residual], [xin])[0];
        var step = DdpmSampler.Step(model.Schedule, x, x0.detach(), t, prev, generator);
        return (step - alpha * g).detach();
    }
}
