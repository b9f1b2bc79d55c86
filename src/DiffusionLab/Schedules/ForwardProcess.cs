namespace DiffusionLab.Schedules;

/// <summary>
/// The forward (noising) process q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I) of a discrete schedule
/// (Ho et al. 2020, eq. 4) — the one place that noises: training losses, the studies, RePaint, SDEdit and the noisy
/// classifier all draw x_t here. Works on batches of any rank: the first dimension is the batch.
/// </summary>
public sealed class ForwardProcess : IDisposable
{
    private readonly Tensor _sqrtAlphaBar;
    private readonly Tensor _sqrtOneMinusAlphaBar;

    public ForwardProcess(NoiseSchedule schedule, Device? device = null)
    {
        Schedule = schedule;
        _sqrtAlphaBar = schedule.TableTensor(schedule.SqrtAlphaBar, device);
        _sqrtOneMinusAlphaBar = schedule.TableTensor(schedule.SqrtOneMinusAlphaBar, device);
    }

    public NoiseSchedule Schedule { get; }

    /// <summary>x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε (Ho et al. 2020, eq. 4; "q_sample"). <paramref name="t"/> holds one step per sample, 0..T.</summary>
    public Tensor Sample(Tensor x0, Tensor t, Tensor noise)
    {
        var (alpha, sigma) = Coefficients(t, x0);
        return alpha * x0 + sigma * noise;
    }

    /// <summary>α = √ᾱ_t and σ = √(1 − ᾱ_t) per sample of steps <paramref name="t"/> [B], shaped [B, 1, …] like <paramref name="like"/>.</summary>
    public (Tensor Alpha, Tensor Sigma) Coefficients(Tensor t, Tensor like) =>
        (TensorOps.Extract(_sqrtAlphaBar, t, like), TensorOps.Extract(_sqrtOneMinusAlphaBar, t, like));

    /// <summary>Same as <see cref="Sample(Tensor, Tensor, Tensor)"/> with fresh noise from <paramref name="generator"/>.</summary>
    public Tensor Sample(Tensor x0, Tensor t, Generator? generator = null) =>
        Sample(x0, t, torch.randn(x0.shape, dtype: x0.dtype, device: x0.device, generator: generator));

    /// <summary>x_t of eq. 4 at one step <paramref name="t"/> (0..T) for the whole batch, noise from <paramref name="generator"/>; t = 0 returns a copy of x_0.</summary>
    public static Tensor Sample(NoiseSchedule schedule, Tensor x0, int t, NoiseGenerator? generator) =>
        t == 0 ? x0.clone() : Sample(schedule, x0, t, NoiseGenerator.RandnLike(x0, generator));

    /// <summary>x_t of eq. 4 at one step <paramref name="t"/> for the whole batch with the given <paramref name="noise"/>.</summary>
    public static Tensor Sample(NoiseSchedule schedule, Tensor x0, int t, Tensor noise) =>
        schedule.SqrtAlphaBar(t) * x0 + schedule.SqrtOneMinusAlphaBar(t) * noise;

    /// <summary>One x_t per step of <paramref name="steps"/> from the same x_0 and ε: [S, …] (the forward-process study).</summary>
    public static Tensor SampleEachStep(NoiseSchedule schedule, Tensor x0, IReadOnlyList<int> steps, Tensor noise)
    {
        using var scope = torch.NewDisposeScope();
        long[] shape = [steps.Count, .. Enumerable.Repeat(1L, (int)x0.dim())];
        var a = torch.tensor(steps.Select(schedule.SqrtAlphaBar).ToArray(), dtype: x0.dtype, device: x0.device).view(shape);
        var b = torch.tensor(steps.Select(schedule.SqrtOneMinusAlphaBar).ToArray(), dtype: x0.dtype, device: x0.device).view(shape);
        return (a * x0.unsqueeze(0) + b * noise.unsqueeze(0)).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        _sqrtAlphaBar.Dispose();
        _sqrtOneMinusAlphaBar.Dispose();
    }
}
