using DiffusionLab.Schedules;

namespace DiffusionLab.Schedules;

/// <summary>
/// The forward (noising) process q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I) of a discrete schedule
/// (Ho et al. 2020, eq. 4). Works on batches of any rank: the first dimension is the batch.
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
    public Tensor Sample(Tensor x0, Tensor t, Tensor noise) =>
        TensorOps.Extract(_sqrtAlphaBar, t, x0) * x0 + TensorOps.Extract(_sqrtOneMinusAlphaBar, t, x0) * noise;

    /// <summary>Same as <see cref="Sample(Tensor, Tensor, Tensor)"/> with fresh noise from <paramref name="generator"/>.</summary>
    public Tensor Sample(Tensor x0, Tensor t, Generator? generator = null) =>
        Sample(x0, t, torch.randn(x0.shape, dtype: x0.dtype, device: x0.device, generator: generator));

    /// <summary>x_t of eq. 4 at one step <paramref name="t"/> (0..T) for the whole batch, noise from <paramref name="generator"/>; t = 0 returns a copy of x_0.</summary>
    public static Tensor Sample(NoiseSchedule schedule, Tensor x0, int t, Generator? generator)
    {
        if (t == 0) return x0.clone();
        double ab = schedule.AlphaBar(t);
        return Math.Sqrt(ab) * x0 + Math.Sqrt(1 - ab) * TensorOps.RandnLike(x0, generator);
    }

    public void Dispose()
    {
        _sqrtAlphaBar.Dispose();
        _sqrtOneMinusAlphaBar.Dispose();
    }
}
