using System.Globalization;

namespace DiffusionLab.Schedules;

/// <summary>
/// The steps a sampler visits, as a value: a strictly decreasing list of a schedule's integer steps t ∈ 1..T, after the
/// last of which comes t = 0 (the clean data). Any discrete sampler runs on any grid, so spacing and solver are chosen
/// independently (as diffusers' <c>timestep_spacing</c> and k-diffusion's sigma functions allow).
/// </summary>
public static class StepGrid
{
    public static readonly IReadOnlyList<string> Names = ["uniform", "trailing", "karras"];

    /// <summary>
    /// The course assignments' strided steps ("leading" spacing), 1-based: with stride ⌊T/K⌋, τ = 1 + (K−1)·stride, …, 1 + stride, 1 —
    /// for T = 1000, K = 50 the 0-based 980, 960, …, 0 of the DDIM/CFG assignment (Song et al. 2021's DDIM sub-sequence).
    /// </summary>
    public static int[] Uniform(int totalSteps, int steps)
    {
        CheckCount(totalSteps, steps);
        int stride = totalSteps / steps;
        return Enumerable.Range(0, steps).Select(k => 1 + k * stride).Reverse().ToArray();
    }

    /// <summary>
    /// "Trailing" spacing (Lin et al. 2024, "Common diffusion noise schedules and sample steps are flawed", Table 2):
    /// t_i = round(T − i·T/K), i = 0 … K−1, so the first step is T itself — the pure-noise level the sampler starts from.
    /// </summary>
    public static int[] Trailing(int totalSteps, int steps)
    {
        CheckCount(totalSteps, steps);
        return Enumerable.Range(0, steps).Select(i => (int)Math.Round(totalSteps - i * (double)totalSteps / steps, MidpointRounding.AwayFromZero))
            .Distinct().ToArray();
    }

    /// <summary>
    /// Karras et al.'s noise levels (EDM, eq. 5): σ_i = (σ_max^{1/ρ} + i/(N−1)(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, ρ = 7, from σ_T
    /// to σ_1 with σ_t = √((1 − ᾱ_t)/ᾱ_t), each moved to the step of the nearest σ_t in log σ (the network was trained at
    /// integer steps; k-diffusion's "quantize"); duplicates after rounding are dropped.
    /// </summary>
    public static int[] Karras(NoiseSchedule schedule, int levels, double rho = 7.0)
    {
        CheckCount(schedule.Steps, levels);
        double Sigma(int t) => Math.Sqrt((1 - schedule.AlphaBar(t)) / schedule.AlphaBar(t));
        double max = Math.Pow(Sigma(schedule.Steps), 1 / rho), min = Math.Pow(Sigma(1), 1 / rho);
        var logSigmas = Enumerable.Range(1, schedule.Steps).Select(t => Math.Log(Sigma(t))).ToArray();
        var steps = new List<int>();
        for (int i = 0; i < levels; i++)
        {
            double sigma = Math.Pow(levels == 1 ? max : max + i / (double)(levels - 1) * (min - max), rho);
            int best = 1;
            for (int t = 2; t <= schedule.Steps; t++)
                if (Math.Abs(logSigmas[t - 1] - Math.Log(sigma)) < Math.Abs(logSigmas[best - 1] - Math.Log(sigma))) best = t;
            if (steps.Count == 0 || steps[^1] != best) steps.Add(best);
        }
        return steps.ToArray();
    }

    /// <summary>
    /// A grid by name for <paramref name="steps"/> steps of <paramref name="schedule"/>: uniform, trailing, karras, or
    /// an explicit list <c>list:999,500,250,1</c> (then <paramref name="steps"/> is ignored).
    /// </summary>
    public static int[] Create(string name, NoiseSchedule schedule, int steps)
    {
        if (name.StartsWith("list:", StringComparison.Ordinal))
        {
            var grid = name[5..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var t) ? t
                    : throw new DiffusionLabException($"step grid {name}: '{p}' is not a whole number")).ToArray();
            return Check(grid, schedule.Steps);
        }
        return name switch
        {
            "uniform" => Uniform(schedule.Steps, steps),
            "trailing" => Trailing(schedule.Steps, steps),
            "karras" => Karras(schedule, steps),
            _ => throw new DiffusionLabException($"unknown step grid '{name}' (choose from {string.Join(", ", Names)}, or list:T1,T2,…)"),
        };
    }

    /// <summary>Checks that <paramref name="grid"/> is a non-empty, strictly decreasing list of steps in 1..T; returns it.</summary>
    public static int[] Check(IReadOnlyList<int> grid, int totalSteps)
    {
        if (grid.Count == 0) throw new DiffusionLabException("a step grid needs at least one step");
        for (int i = 0; i < grid.Count; i++)
        {
            if (grid[i] < 1 || grid[i] > totalSteps)
                throw new DiffusionLabException($"step {grid[i]} of the grid is outside the schedule's steps 1..{totalSteps}");
            if (i > 0 && grid[i] >= grid[i - 1])
                throw new DiffusionLabException($"a step grid must decrease strictly (from noise to data), got {grid[i - 1]} then {grid[i]}");
        }
        return grid as int[] ?? grid.ToArray();
    }

    private static void CheckCount(int totalSteps, int steps)
    {
        if (steps < 1 || steps > totalSteps)
            throw new DiffusionLabException($"the number of sampling steps must be between 1 and the schedule's {totalSteps} steps, got {steps}");
    }
}
