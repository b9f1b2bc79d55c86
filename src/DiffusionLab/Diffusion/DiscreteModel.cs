using DiffusionLab.Denoisers;
using DiffusionLab.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Diffusion;

/// <summary>
/// A discrete-time diffusion model: a schedule of T steps and a denoiser network. The network sees x_t and
/// t/T; its output is read with α = √ᾱ_t and σ = √(1 − ᾱ_t). The schedule lives here, not in the network,
/// so it never ends up in a checkpoint.
/// </summary>
public sealed class DiscreteModel : IDisposable
{
    private readonly Tensor _sqrtAlphaBar, _sqrtOneMinusAlphaBar;

    public DiscreteModel(NoiseSchedule schedule, Denoiser denoiser, Device? device = null)
    {
        Schedule = schedule;
        Denoiser = denoiser;
        _sqrtAlphaBar = schedule.TableTensor(schedule.SqrtAlphaBar, device);
        _sqrtOneMinusAlphaBar = schedule.TableTensor(schedule.SqrtOneMinusAlphaBar, device);
    }

    public NoiseSchedule Schedule { get; }
    public Denoiser Denoiser { get; }

    /// <summary>ε̂ and x̂_0 for x_t at integer steps <paramref name="steps"/> ([B], values 1..T).</summary>
    public Prediction Predict(Tensor x, Tensor steps)
    {
        var alpha = TensorOps.Extract(_sqrtAlphaBar, steps, x);
        var sigma = TensorOps.Extract(_sqrtOneMinusAlphaBar, steps, x);
        var time = steps.to_type(ScalarType.Float32).to(x.device) / Schedule.Steps;
        return Denoiser.Predict(x, time, alpha, sigma);
    }

    /// <summary>Same, with one step for the whole batch.</summary>
    public Prediction Predict(Tensor x, int step)
    {
        using var steps = torch.full(x.shape[0], step, dtype: ScalarType.Int64, device: x.device);
        return Predict(x, steps);
    }

    /// <summary>
    /// The simplified DDPM objective (Ho et al. 2020, eq. 14): t ~ U{1..T}, ε ~ N(0, I),
    /// x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, loss = mean ‖target − f(x_t, t/T)‖² with the target of the
    /// parameterisation (ε, x_0 or v).
    /// </summary>
    public Tensor Loss(Tensor x0, Generator? generator = null)
    {
        using var scope = torch.NewDisposeScope();
        long b = x0.shape[0];
        var steps = torch.randint(1, Schedule.Steps + 1, [b], dtype: ScalarType.Int64, generator: generator).to(x0.device);
        var eps = torch.randn(x0.shape, dtype: x0.dtype, generator: generator).to(x0.device);
        var alpha = TensorOps.Extract(_sqrtAlphaBar, steps, x0);
        var sigma = TensorOps.Extract(_sqrtOneMinusAlphaBar, steps, x0);
        var xt = alpha * x0 + sigma * eps;
        var output = Denoiser.Network.call(xt, steps.to_type(ScalarType.Float32) / Schedule.Steps);
        var target = PredictionMath.Target(Denoiser.Parameterisation, x0, eps, alpha, sigma);
        return (output - target).square().mean().MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        _sqrtAlphaBar.Dispose();
        _sqrtOneMinusAlphaBar.Dispose();
    }
}
