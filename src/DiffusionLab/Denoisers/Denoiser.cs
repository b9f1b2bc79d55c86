
namespace DiffusionLab.Denoisers;

/// <summary>
/// A network f(x, t) together with what its output means. Turns the raw output into ε and x̂_0 for any
/// parameterisation, given the α and σ of x_t = α x_0 + σ ε (per sample, broadcast to x's rank).
/// Knows nothing of schedules or SDEs: the discrete and continuous model wrappers supply α, σ and the
/// network's time input.
/// </summary>
public sealed class Denoiser(nn.Module<Tensor, Tensor, Tensor> network, Parameterisation parameterisation)
{
    public nn.Module<Tensor, Tensor, Tensor> Network { get; } = network;
    public Parameterisation Parameterisation { get; } = parameterisation;

    /// <param name="x">x_t, [B, …].</param>
    /// <param name="time">The network's time input, [B] (normalised to [0, 1]).</param>
    /// <param name="alpha">Mean coefficient α, [B, 1, …].</param>
    /// <param name="sigma">Noise std σ, [B, 1, …].</param>
    /// <param name="labels">Class labels [B] (−1 = none) for a class-conditional network; null for the unconditional model.</param>
    public Prediction Predict(Tensor x, Tensor time, Tensor alpha, Tensor sigma, Tensor? labels = null) =>
        PredictionMath.FromOutput(Parameterisation, Output(x, time, labels), x, alpha, sigma);

    /// <summary>
    /// ε̂ and x̂_0 of the same x under two label sets, stacked [B under <paramref name="labels"/>; B under
    /// <paramref name="otherLabels"/>] (α, σ and time given for B) — one network call (see <see cref="Models.IClassConditionalNetwork.ForwardPair"/>).
    /// </summary>
    public Prediction PredictPair(Tensor x, Tensor time, Tensor alpha, Tensor sigma, Tensor labels, Tensor otherLabels)
    {
        var output = Conditional().ForwardPair(x, time, labels, otherLabels);
        return PredictionMath.FromOutput(Parameterisation, output, torch.cat([x, x]), torch.cat([alpha, alpha]), torch.cat([sigma, sigma]));
    }

    private Models.IClassConditionalNetwork Conditional() =>
        Network is Models.IClassConditionalNetwork { IsConditional: true } conditional
            ? conditional
            : throw new DiffusionLabException("this model is not class-conditional (it was trained without classes)");

    /// <summary>The raw network output, conditioned on <paramref name="labels"/> when given.</summary>
    public Tensor Output(Tensor x, Tensor time, Tensor? labels = null)
    {
        if (labels is null) return Network.call(x, time);
        return Conditional().Forward(x, time, labels);
    }
}
