using DiffusionLab.Sde;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Samplers.Sde;

/// <summary>
/// Euler's method on the probability-flow ODE dx/dt = f(x, t) − ½g(t)² ∇ log p_t(x) (Song et al. 2021, eq. 13),
/// from x_T to ε_t over uniform steps; deterministic given x_T. One network evaluation per step.
/// </summary>
public sealed class ProbabilityFlowEulerSampler(double endTime = SdeSampling.DefaultEndTime) : ISampler<ScoreModel>
{
    public string Name => "pf-euler";

    public SampleResult Sample(ScoreModel model, Tensor noise, int steps, Generator? generator = null, Action<int, Tensor>? onStep = null)
    {
        SdeSampling.CheckNoise(noise);
        var sde = model.Sde;
        var grid = SdeSampling.TimeGrid(sde, endTime, steps);
        using var noGrad = torch.no_grad();
        var x = noise.alias();
        for (int i = 0; i < steps; i++)
        {
            using var scope = torch.NewDisposeScope();
            var t = SdeSampling.Times(x, grid[i]);
            var drift = sde.ReverseDrift(x, t, model.Score(x, t), probabilityFlow: true);
            var next = x + drift * (grid[i + 1] - grid[i]); // Euler step of SBGM eq. 13 (dt < 0)
            x.Dispose();
            x = next.MoveToOuterDisposeScope();
            onStep?.Invoke(i + 1, x);
        }
        return new SampleResult(x, steps);
    }
}
