using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Bridges;

/// <summary>
/// The exact bridge network between q_0 = N(μ_0, a²I) and q_1 = N(μ_1, b²I) for the reference σW, coordinate by
/// coordinate: the Schrödinger bridge's coupling of Gaussians is Gaussian with cross-covariance
/// c = (√(σ⁴ + 4a²b²) − σ²)/2 (minimising E(x_0 − x_1)²/2 + σ²·I(x_0; x_1) over Gaussian couplings: c² + σ²c − a²b² = 0;
/// Bunne et al. 2023, "The Schrödinger bridge between Gaussian measures has a closed form"), and x_t =
/// (1 − t)x_0 + t·x_1 + σ√(t(1 − t))·z is jointly Gaussian with the displacement and the noise, so the conditional means
/// are linear regressions on x_t: E[x_1 − x_0 | x_t] = (μ_1 − μ_0) + Cov(x_1 − x_0, x_t)/Var(x_t)·(x_t − μ_t) and
/// E[z | x_t] = σ√(t(1 − t))/Var(x_t)·(x_t − μ_t).
/// </summary>
internal sealed class GaussianBridgeNetwork(double mu0, double a, double mu1, double b, double sigma)
    : nn.Module<Tensor, Tensor, Tensor>("GaussianBridgeNetwork")
{
    public double Coupling { get; } = (Math.Sqrt(Math.Pow(sigma, 4) + 4 * a * a * b * b) - sigma * sigma) / 2;

    /// <summary>Var(x_t) of the bridge at time t.</summary>
    public double Variance(double t) =>
        (1 - t) * (1 - t) * a * a + t * t * b * b + 2 * t * (1 - t) * Coupling + sigma * sigma * t * (1 - t);

    public override Tensor forward(Tensor x, Tensor time)
    {
        using var scope = torch.NewDisposeScope();
        var t = time.to_type(ScalarType.Float64).unsqueeze(1);
        var c = Coupling;
        var muT = (1 - t) * mu0 + t * mu1;
        var s = sigma * (t * (1 - t)).sqrt();
        var v = (1 - t).square() * (a * a) + t.square() * (b * b) + 2 * t * (1 - t) * c + s.square();
        var covD = (1 - t) * (c - a * a) + t * (b * b - c);
        var centred = x.to_type(ScalarType.Float64) - muT;
        var displacement = (mu1 - mu0) + covD / v * centred;
        var noise = s / v * centred;
        return torch.cat([displacement, noise], 1).to_type(x.dtype).MoveToOuterDisposeScope();
    }
}
