using DiffusionLab.Denoisers;
using DiffusionLab.Schedules;
namespace DiffusionLab.Samplers.Discrete;

/// <summary>The samplers of a discrete model by name — one list for image and 2-D runs, the CLI and the studies.</summary>
public static class DiscreteSamplers
{
    public static readonly IReadOnlyList<string> Names = ["ddpm", "ddim", "dpm++2m", "dpm++2s", "dpm++2m-sde", "unipc", "heun-karras"];

    /// <param name="name">ddpm (ancestral), ddim, dpm++2m (DPM-Solver++(2M)), dpm++2s (DPM-Solver++(2S)), dpm++2m-sde
    /// (SDE-DPM-Solver++(2M), stochastic), unipc (UniPC-2, bh2) or heun-karras (EDM's Heun on Karras σ).</param>
    /// <param name="eta">DDIM's η.</param>
    /// <param name="betaVariance">DDPM: σ_t² = β_t instead of β̃_t.</param>
    /// <param name="clipX0">Clip x̂_0 to [−c, c] (every sampler).</param>
    public static DiscreteSampler Create(string name, double eta = 0, bool betaVariance = false, double? clipX0 = null) => name switch
    {
        "ddpm" => new DdpmSampler(betaVariance, clipX0),
        "ddim" => new DdimSampler(eta, clipX0),
        "dpm++2m" => new DpmSolverPlusPlusSampler(clipX0),
        "dpm++2s" => new DpmSolverPlusPlus2SSampler(clipX0),
        "dpm++2m-sde" => new DpmSolverPlusPlusSampler(clipX0, stochastic: true),
        "unipc" => new UniPcSampler(clipX0),
        "heun-karras" => new HeunKarrasSampler(clipX0: clipX0),
        _ => throw new DiffusionLabException($"unknown sampler '{name}' for a discrete model (choose from {string.Join(", ", Names)})"),
    };

    /// <summary>The sampler names of a comma-separated option value, each checked; the error names the option.</summary>
    public static string[] ParseNames(string list, string option)
    {
        var names = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var name in names)
            if (!Names.Contains(name))
                throw new DiffusionLabException($"{option}: unknown sampler '{name}' (choose from {string.Join(", ", Names)})");
        return names;
    }

    /// <summary>Network evaluations per sample of <paramref name="steps"/> steps on the sampler's default grid, or on the
    /// named <paramref name="grid"/> (Heun and 2S: 2 per step but the last).</summary>
    public static int FunctionEvaluations(string name, Schedules.NoiseSchedule schedule, int steps, string? grid = null)
    {
        var sampler = Create(name);
        return sampler.FunctionEvaluations(schedule, grid is null ? sampler.DefaultGrid(schedule, steps) : Schedules.StepGrid.Create(grid, schedule, steps));
    }

    /// <summary>The steps that spend at most <paramref name="nfe"/> network evaluations (Heun and 2S: ⌈(nfe + 1)/2⌉ steps, at least 2).</summary>
    public static int StepsForBudget(string name, int nfe) => name is "heun-karras" or "dpm++2s" ? Math.Max(2, (nfe + 1) / 2) : nfe;
}
