using DiffusionLab.Sde;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Samplers.Sde;

/// <summary>
/// Heun's second-order method on the probability-flow ODE (Song et al. 2021, eq. 13): an Euler predictor
/// x̃ = x + d(x, t_i)Δt, then x ← x + ½[d(x, t_i) + d(x̃, t_{i+1})]Δt. The last step is a plain Euler step
/// (as in Karras et al. 2022, Alg. 1), so N steps cost 2N − 1 network evaluations.
/// </summary>
public sealed class ProbabilityFlowHeunSampler(double endTime = SdeSampling.DefaultEndTime) : ISampler<ScoreModel>
{
    public string Name => "pf-heun";

    public SampleResult Sample(ScoreModel model, Tensor noise, int steps, Generator? generator = null, Action<int, Tensor>? onStep = null)
    {
        SdeSampling.CheckNoise(noise);
        var sde = model.Sde;
        var grid = SdeSampling.TimeGrid(sde, endTime, steps);
        using var noGrad = torch.no_grad();
        var x = noise.alias();
        int nfe = 0;
        for (int i = 0; i < steps; i++)
        {
            using var scope = torch.NewDisposeScope();
            double dt = grid[i + 1] - grid[i]; // negative: integrating from T down to ε_t
            var t = SdeSampling.Times(x, grid[i]);
            var d = sde.ReverseDrift(x, t, model.Score(x, t), probabilityFlow: true);
            nfe++;
            var next = x + d * dt; // Euler predictor (SBGM eq. 13)
            if (i < steps - 1)
            {
                var tNext = SdeSampling.Times(x, grid[i + 1]);
                var dNext = sde.ReverseDrift(next, tNext, model.Score(next, tNext), probabilityFlow: true);
                nfe++;
                next = x + 0.5 * (d + dNext) * dt; // trapezoidal corrector (Heun; Karras et al. 2022, Alg. 1)
            }
            x.Dispose();
            x = next.MoveToOuterDisposeScope();
            onStep?.Invoke(i + 1, x);
        }
        return new SampleResult(x, nfe);
    }
}
