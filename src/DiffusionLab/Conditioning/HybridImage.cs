using DiffusionLab.Denoisers;
using DiffusionLab.Imaging;

namespace DiffusionLab.Conditioning;

/// <summary>
/// Hybrid images by factorised diffusion (Geng, Park &amp; Owens 2024, "Factorized Diffusion": the sum of a Gaussian
/// low-pass and high-pass component, their hybrid-image view): ε̃ = lowpass(ε(x_t, c_far)) + highpass(ε(x_t, c_near)), so the image reads as c_near up close
/// and as c_far from afar (or blurred, or downscaled). Both classes go through the network in one batched call.
/// </summary>
public sealed class HybridImage(Tensor labelsFar, Tensor labelsNear, GaussianBlur blur, double scale) : IConditioning
{
    public GaussianBlur Blur { get; } = blur;

    public Prediction Predict(DiscreteModel model, Tensor x, Tensor steps)
    {
        using var scope = torch.NewDisposeScope();
        int b = (int)x.shape[0];
        var both = new ClassifierFreeGuidance(torch.cat([labelsFar, labelsNear]), scale)
            .Predict(model, torch.cat([x, x]), torch.cat([steps, steps]));
        // low + high = identity, so combining x̂_0 the same way stays consistent with ε̃: x̂_0 = (x_t − σ ε̃)/α.
        var eps = Blur.LowPass(both.Epsilon[..b]) + Blur.HighPass(both.Epsilon[b..]);
        var x0 = Blur.LowPass(both.X0[..b]) + Blur.HighPass(both.X0[b..]);
        return new Prediction(eps.MoveToOuterDisposeScope(), x0.MoveToOuterDisposeScope());
    }
}
