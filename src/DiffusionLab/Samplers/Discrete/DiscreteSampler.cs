using DiffusionLab.Denoisers;
using DiffusionLab.Schedules;

namespace DiffusionLab.Samplers.Discrete;

/// <summary>
/// A sampler of a discrete model that runs on any step grid (<see cref="StepGrid"/>): given a count of steps it uses its
/// default grid (uniform; Heun: Karras), given a grid it walks that grid — so DPM-Solver++ on Karras spacing, or DDIM on
/// trailing spacing, is one argument away.
/// </summary>
public abstract class DiscreteSampler : ISampler<DiscreteModel>
{
    public abstract string Name { get; }

    /// <summary>The grid of <paramref name="steps"/> steps used when none is given.</summary>
    public virtual int[] DefaultGrid(NoiseSchedule schedule, int steps) => StepGrid.Uniform(schedule.Steps, steps);

    /// <summary>Samples on the default grid of <paramref name="steps"/> steps.</summary>
    public SampleResult Sample(DiscreteModel model, Tensor noise, int steps, NoiseGenerator? generator = null, Action<int, Tensor>? onStep = null) =>
        Sample(model, noise, DefaultGrid(model.Schedule, steps), generator, onStep);

    /// <summary>Samples on <paramref name="grid"/> (strictly decreasing steps in 1..T; t = 0 follows the last).</summary>
    public abstract SampleResult Sample(DiscreteModel model, Tensor noise, IReadOnlyList<int> grid, NoiseGenerator? generator = null, Action<int, Tensor>? onStep = null);

    /// <summary>Network evaluations per sample on <paramref name="grid"/> (one per step unless the solver says otherwise).</summary>
    public virtual int FunctionEvaluations(NoiseSchedule schedule, IReadOnlyList<int> grid) => grid.Count;
}
