
namespace DiffusionLab.Sde;

/// <summary>
/// The Ornstein–Uhlenbeck SDE dx = −½x dt + dW: the VP SDE with constant β = 1. Its kernel is
/// x_t | x_0 ~ N(e^{−t/2} x_0, (1 − e^{−t}) I) and its stationary law is N(0, I).
/// </summary>
/// <remarks>
/// N(0, I) is only reached as t → ∞, so the end time must be large for the prior to be a good start for the
/// reverse process. The default T = 10 leaves a mean coefficient α(T) = e^{−5} ≈ 0.0067 and a variance
/// 1 − e^{−10} ≈ 1 − 4.5·10⁻⁵: for data of unit scale the gap between p_T and N(0, I) is below what a few
/// thousand samples can resolve, while the network's time input t/T still spreads over [0, 1].
/// </remarks>
public sealed class OrnsteinUhlenbeckSde : ISde
{
    public const double DefaultEndTime = 10.0;

    public OrnsteinUhlenbeckSde(double endTime = DefaultEndTime)
    {
        if (!double.IsFinite(endTime) || endTime <= 0) throw new DiffusionLabException($"OU SDE end time must be positive, got {endTime}");
        EndTime = endTime;
    }

    public string Name => "ou";

    public double EndTime { get; }

    // f(x, t) = −x/2 (Ornstein–Uhlenbeck process with unit rate ½ and unit diffusion).
    public Tensor Drift(Tensor x, Tensor t) => -0.5 * x;

    // g(t) = 1.
    public Tensor Diffusion(Tensor t) => torch.ones_like(t);

    // α(t) = e^{−t/2}, solving dα/dt = −½α (SBGM eq. 33 with β ≡ 1).
    public Tensor MeanCoefficient(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        return (-0.5 * t.to_type(ScalarType.Float64)).exp().to_type(t.dtype).MoveToOuterDisposeScope();
    }

    // σ(t)² = 1 − e^{−t}, solving dσ²/dt = −σ² + 1 (SBGM eq. 33 with β ≡ 1); expm1 keeps small t accurate.
    public Tensor MarginalStd(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        return (-(-t.to_type(ScalarType.Float64)).expm1()).sqrt().to_type(t.dtype).MoveToOuterDisposeScope();
    }

    public Tensor PriorSample(long[] shape, Generator? generator = null) => GaussianPrior.Sample(shape, 1.0, generator);

    public Tensor PriorLogProb(Tensor z) => GaussianPrior.LogProb(z, 1.0);
}
