using DiffusionLab.Bridges;

namespace DiffusionLab.Samplers.Bridge;

/// <summary>
/// Samplers of a <see cref="SchrodingerBridge"/>: the start points are samples of q_0 (forward) or of q_1
/// (<c>backward</c>), and the result approximates the other end.
/// </summary>
public static class BridgeSamplers
{
    public static readonly IReadOnlyList<string> Names = ["bridge-sde", "bridge-ode"];

    public static ISampler<SchrodingerBridge> Create(string name, bool backward) => name switch
    {
        "bridge-sde" => new BridgeEulerMaruyamaSampler(backward),
        "bridge-ode" => new BridgeHeunSampler(backward),
        _ => throw new DiffusionLabException($"unknown bridge sampler '{name}' (choose from {string.Join(", ", Names)})"),
    };

    /// <summary>Checks the start points, then runs <see cref="SamplingLoop.Run"/> (which checks the step count).</summary>
    internal static SampleResult Integrate(Tensor start, int steps, Action<int, Tensor>? onStep, Func<Tensor, int, (Tensor Next, int Evaluations)> step)
    {
        if (start.dim() != 2 || start.shape[0] < 1)
            throw new DiffusionLabException($"bridge sampling starts from points [B, D] with B >= 1, got [{string.Join(", ", start.shape)}]");
        return SamplingLoop.Run(start, steps, onStep, step);
    }
}

/// <summary>
/// Euler–Maruyama on the bridge's SDE over N uniform steps of h = 1/N. Forward: x_{t+h} = x_t + h·f(x_t, t) + σ√h·z
/// from t = 0; backward: x_{t−h} = x_t − h·b(x_t, t) + σ√h·z from t = 1 (<see cref="SchrodingerBridge.ForwardDrift"/>,
/// <see cref="SchrodingerBridge.BackwardDrift"/>). Each drift is read at the left end of its step, so the singular end of
/// the drift (t = 1 forward, t = 0 backward) is never evaluated; the last step adds no noise, since a Brownian bridge has
/// no variance left at its end (score_sde's <c>noise_removal</c> does the same). One network evaluation per step.
/// </summary>
public sealed class BridgeEulerMaruyamaSampler(bool backward) : ISampler<SchrodingerBridge>
{
    public string Name => "bridge-sde";

    public SampleResult Sample(SchrodingerBridge model, Tensor noise, int steps, NoiseGenerator? generator = null, Action<int, Tensor>? onStep = null)
    {
        double h = 1.0 / steps;
        return BridgeSamplers.Integrate(noise, steps, onStep, (x, i) =>
        {
            var mean = backward
                ? x - h * model.BackwardDrift(x, 1 - i * h)
                : x + h * model.ForwardDrift(x, i * h);
            var next = i == steps - 1 ? mean : mean + model.Sigma * Math.Sqrt(h) * NoiseGenerator.RandnLike(x, generator);
            return (next, 1);
        });
    }
}

/// <summary>
/// Heun's method on the probability-flow ODE dx/dt = v(x, t) (<see cref="SchrodingerBridge.Velocity"/>), deterministic,
/// over N uniform steps from δ to 1 − δ (or back), δ = 10⁻³: v carries 1/√(t(1 − t)) and is not evaluated at the ends
/// (as score_sde stops its samplers at ε = 10⁻³). Two network evaluations per step.
/// </summary>
public sealed class BridgeHeunSampler(bool backward, double endGap = BridgeHeunSampler.DefaultEndGap) : ISampler<SchrodingerBridge>
{
    public const double DefaultEndGap = 1e-3;

    public string Name => "bridge-ode";

    public SampleResult Sample(SchrodingerBridge model, Tensor noise, int steps, NoiseGenerator? generator = null, Action<int, Tensor>? onStep = null)
    {
        if (!(endGap > 0 && endGap < 0.5)) throw new DiffusionLabException($"the ODE's end gap must be in (0, 0.5), got {endGap}");
        double span = 1 - 2 * endGap, h = (backward ? -span : span) / steps, start = backward ? 1 - endGap : endGap;
        return BridgeSamplers.Integrate(noise, steps, onStep, (x, i) =>
        {
            double t0 = start + i * h, t1 = i == steps - 1 ? start + span * (backward ? -1 : 1) : start + (i + 1) * h;
            var v0 = model.Velocity(x, t0);
            var euler = x + (t1 - t0) * v0;
            var v1 = model.Velocity(euler, t1);
            return (x + (t1 - t0) / 2 * (v0 + v1), 2); // Heun: the trapezoid of the two slopes
        });
    }
}
