using DiffusionLab.Models;
using DiffusionLab.Training;

namespace DiffusionLab.Runs;

/// <summary>
/// Everything needed to rebuild a 2-D run: saved as <c>RUN/config.json</c> when training starts and read back
/// by sampling and resuming (diffusers' "config = constructor arguments").
/// </summary>
public sealed record ToyRunConfig
{
    public string Dataset { get; init; } = "swiss-roll";
    /// <summary>Size of the fixed training set drawn once from the dataset.</summary>
    public int DataSize { get; init; } = 100_000;
    /// <summary>"ddpm" (discrete steps), "sde" (continuous time) or "bridge" (a Schrödinger bridge from <see cref="Source"/> to <see cref="Dataset"/>).</summary>
    public string Process { get; init; } = "ddpm";
    /// <summary>For Process = "bridge": the dataset at t = 0 (any toy dataset, or "gaussian").</summary>
    public string Source { get; init; } = "gaussian";
    /// <summary>For Process = "bridge": σ of the reference Brownian motion σW.</summary>
    public double BridgeSigma { get; init; } = 1.0;
    /// <summary>For Process = "sde": ou, vp, subvp or ve.</summary>
    public string Sde { get; init; } = "vp";
    /// <summary>For Process = "sde": dsm, ism or ssm.</summary>
    public string Loss { get; init; } = "dsm";
    /// <summary>What the network predicts: eps, x0, v or score.</summary>
    public string Prediction { get; init; } = "eps";
    /// <summary>For Process = "ddpm": the noise schedule spec and its number of steps.</summary>
    public string Schedule { get; init; } = "linear";
    public int DiffusionSteps { get; init; } = 1000;
    /// <summary>"mlp" (residual MLP) or "timelinear" (the course assignments' network).</summary>
    public string Network { get; init; } = "mlp";
    public ToyMlpConfig Mlp { get; init; } = new();
    public TimeLinearMlpConfig TimeLinear { get; init; } = new();
    public int BatchSize { get; init; } = 1024;
    public TrainingOptions Training { get; init; } = new();

    /// <summary>Checks every field; a bad one is named as the option that sets it, or — when the configuration was read
    /// from <paramref name="file"/> — as the field of that file.</summary>
    public void Validate(string? file = null)
    {
        string Name(string field) => file is null ? $"`{field}`" : $"{field} in {file}"; // a parameter when set in code, the file's field when read
        string In(string field) => file is null ? "" : $" ({field} in {file})";
        if (Process is not ("ddpm" or "sde" or "bridge")) throw new DiffusionLabException($"unknown process '{Process}'{In("Process")} (ddpm, sde or bridge)");
        if (Process == "bridge" && Network != "mlp") throw new DiffusionLabException($"a Schrödinger bridge needs the mlp network{In("Network")}, got '{Network}'");
        if (Process == "bridge" && (!(BridgeSigma > 0) || double.IsInfinity(BridgeSigma)))
            throw new DiffusionLabException($"{Name("BridgeSigma")} must be positive and finite, got {BridgeSigma}");
        if (Network is not ("mlp" or "timelinear")) throw new DiffusionLabException($"unknown network '{Network}'{In("Network")} (mlp or timelinear)");
        if (BatchSize < 1) throw new DiffusionLabException($"{Name("BatchSize")} must be positive, got {BatchSize}");
        if (DataSize < 1) throw new DiffusionLabException($"{Name("DataSize")} must be positive, got {DataSize}");
        if (DiffusionSteps < 1) throw new DiffusionLabException($"{Name("DiffusionSteps")} must be positive, got {DiffusionSteps}");
        if (Mlp.Width < 1) throw new DiffusionLabException($"{Name("Mlp.Width")} must be positive, got {Mlp.Width}");
        if (Mlp.Depth < 0) throw new DiffusionLabException($"{Name("Mlp.Depth")} must not be negative, got {Mlp.Depth}");
        Training.Validate(file);
    }
}
