using DiffusionLab.Sde;

namespace DiffusionLab.Samplers.Sde;

/// <summary>Shared pieces of the SDE/ODE samplers: the time grid, argument checks and per-batch time tensors.</summary>
public static class SdeSampling
{
    /// <summary>The default last time ε_t of sampling, as score_sde's <c>eps=1e-3</c>: σ(t) and the score stay finite.</summary>
    public const double DefaultEndTime = 1e-3;

    /// <summary>
    /// <paramref name="steps"/> + 1 uniformly spaced times from T down to ε_t: t_i = T − i(T − ε_t)/steps, so
    /// step i goes from t_i to t_{i+1} with dt = (T − ε_t)/steps and the last step lands exactly on ε_t.
    /// </summary>
    public static double[] TimeGrid(ISde sde, double endTime, int steps)
    {
        CheckSteps(steps);
        CheckEndTime(sde, endTime);
        var grid = new double[steps + 1];
        for (int i = 0; i <= steps; i++) grid[i] = sde.EndTime - i * (sde.EndTime - endTime) / steps;
        grid[steps] = endTime;
        return grid;
    }

    /// <summary>
    /// The loop every fixed-step SDE/ODE sampler shares: from the prior sample <paramref name="noise"/> over the uniform
    /// grid from T to <paramref name="endTime"/>, x ← <paramref name="step"/>(x, i, t_i, t_{i+1}) with each step's
    /// temporaries freed, <paramref name="onStep"/> after each; <paramref name="step"/> returns the new x and the network
    /// evaluations it spent.
    /// </summary>
    public static SampleResult Integrate(ScoreModel model, Tensor noise, int steps, double endTime, Action<int, Tensor>? onStep,
        Func<Tensor, int, double, double, (Tensor Next, int Evaluations)> step)
    {
        CheckNoise(noise);
        var grid = TimeGrid(model.Sde, endTime, steps);
        return SamplingLoop.Run(noise, steps, onStep, (x, i) => step(x, i, grid[i], grid[i + 1]));
    }

    /// <summary>Standard normal noise shaped like <paramref name="x"/>, drawn on the CPU generator and moved to x's device.</summary>
    public static Tensor Noise(Tensor x, NoiseGenerator? generator) => NoiseGenerator.RandnLike(x, generator);

    internal static void CheckSteps(int steps)
    {
        if (steps < 1) throw new DiffusionLabException($"`steps` must be at least 1, got {steps}");
    }

    internal static void CheckEndTime(ISde sde, double endTime)
    {
        if (!(endTime > 0 && endTime < sde.EndTime))
            throw new DiffusionLabException($"the sampling end time must be in (0, {sde.EndTime}), got {endTime}");
    }

    internal static void CheckNoise(Tensor noise)
    {
        if (noise.dim() < 2 || noise.shape[0] < 1)
            throw new DiffusionLabException($"initial noise must be a batch [B, ...] with B >= 1, got shape [{string.Join(", ", noise.shape)}]");
    }
}
