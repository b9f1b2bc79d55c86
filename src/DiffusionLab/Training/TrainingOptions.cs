namespace DiffusionLab.Training;

/// <summary>Settings of the shared training loop; saved with a run so it can be resumed and reproduced.</summary>
public sealed record TrainingOptions
{
    public int Steps { get; init; } = 10_000;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>
    /// "constant", "cosine" (cosine decay to 1% after warm-up; Loshchilov &amp; Hutter 2017) or "exponential"
    /// (lr·γ^epoch, stepped once per epoch like PyTorch's ExponentialLR — the CS180 project 5 recipe).
    /// </summary>
    public string LrSchedule { get; init; } = "cosine";
    /// <summary>For the exponential schedule: the per-epoch factor γ.</summary>
    public double LrGamma { get; init; } = 1.0;
    /// <summary>Optimizer steps per epoch (for the exponential schedule and epoch-numbered logs); 0 = not epoch-based.</summary>
    public int StepsPerEpoch { get; init; }
    /// <summary>
    /// Ramp the EMA decay as min(d, (1 + n)/(10 + n)) after n updates (TensorFlow's ExponentialMovingAverage with
    /// num_updates, as diffusers' EMAModel does) so short runs are not dominated by the random initial weights.
    /// </summary>
    public bool EmaWarmup { get; init; }
    public int WarmupSteps { get; init; } = 200;
    /// <summary>Gradient-norm clipping threshold; 0 disables it.</summary>
    public double GradClip { get; init; } = 1.0;
    /// <summary>EMA decay of the weights used for sampling (Song &amp; Ermon 2020, §4.4 technique 5); 0 disables EMA.</summary>
    public double EmaDecay { get; init; } = 0.999;
    public int LogEvery { get; init; } = 50;
    public int CheckpointEvery { get; init; } = 1000;
    public long Seed { get; init; }
    /// <summary>
    /// "fp32", or "bf16": the network's forward pass under bfloat16 <see cref="Runtime.MixedPrecision"/> (autocast's
    /// policy; weights, gradients, Adam and EMA stay float32). About 1.7× faster on CPUs with AVX-512 BF16 or AMX.
    /// </summary>
    public string Precision { get; init; } = "fp32";

    /// <summary>Learning rate at a 0-based step: linear warm-up, then constant or cosine decay.</summary>
    public double LearningRateAt(long step)
    {
        if (step < WarmupSteps) return LearningRate * (step + 1) / WarmupSteps;
        if (LrSchedule == "constant") return LearningRate;
        if (LrSchedule == "exponential") return LearningRate * Math.Pow(LrGamma, StepsPerEpoch > 0 ? step / StepsPerEpoch : 0);
        double progress = Steps <= WarmupSteps ? 1 : (double)(step - WarmupSteps) / (Steps - WarmupSteps);
        return LearningRate * (0.01 + 0.99 * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(progress, 1))));
    }

    /// <summary>Checks every field; a bad one is named as the option that sets it, or — when the options were read from
    /// <paramref name="file"/> (a run's config.json) — as the field <c>Training.X</c> of that file.</summary>
    public void Validate(string? file = null)
    {
        string Name(string field) => file is null ? $"`{field}`" : $"Training.{field} in {file}"; // a parameter when set in code, the file's field when read
        if (Steps < 1) throw new DiffusionLabException($"{Name("Steps")} must be at least 1, got {Steps}");
        if (!(LearningRate > 0)) throw new DiffusionLabException($"{Name("LearningRate")} must be positive, got {LearningRate}");
        if (LrSchedule is not ("constant" or "cosine" or "exponential")) throw new DiffusionLabException($"unknown learning-rate schedule '{LrSchedule}'{(file is null ? " (`LrSchedule`)" : $" (Training.LrSchedule in {file})")} (constant, cosine or exponential)");
        if (!(LrGamma > 0) || LrGamma > 1) throw new DiffusionLabException($"the learning-rate decay γ{(file is null ? " (`LrGamma`)" : $" (Training.LrGamma in {file})")} must be in (0, 1], got {LrGamma}");
        if (StepsPerEpoch < 0) throw new DiffusionLabException($"{Name("StepsPerEpoch")} must not be negative");
        if (EmaDecay < 0 || EmaDecay >= 1) throw new DiffusionLabException($"{Name("EmaDecay")} must be in [0, 1), got {EmaDecay}");
        if (WarmupSteps < 0) throw new DiffusionLabException($"{Name("WarmupSteps")} must not be negative, got {WarmupSteps}");
        if (GradClip < 0) throw new DiffusionLabException($"{Name("GradClip")} must not be negative, got {GradClip}");
        try { Runtime.MixedPrecision.Parse(Precision); }
        catch (DiffusionLabException e) when (file is not null) { throw new DiffusionLabException($"{e.Message} (Training.Precision in {file})"); }
    }
}
