using DiffusionLab.Denoisers;

namespace DiffusionLab.Conditioning;

/// <summary>
/// Visual anagrams (Geng, Park &amp; Owens 2024, the mean over views with N = 2): ε̃ = ½[ε(x_t, c₁) + v⁻¹(ε(v(x_t), c₂))], so the
/// sample reads as class c₁ as is and as class c₂ through the view v (e.g. upside down). Each term is the
/// class-guided estimate with scale γ; both views go through the network in one batched call.
/// </summary>
public sealed class VisualAnagram(Tensor labelsAsIs, Tensor labelsInView, ImageView view, double scale) : IConditioning
{
    public ImageView View { get; } = view;

    public Prediction Predict(DiscreteModel model, Tensor x, Tensor steps)
    {
        using var scope = torch.NewDisposeScope();
        int b = (int)x.shape[0];
        var both = new ClassifierFreeGuidance(torch.cat([labelsAsIs, labelsInView]), scale)
            .Predict(model, torch.cat([x, View.Apply(x)]), torch.cat([steps, steps]));
        // x̂_0 is affine in ε̂ with the same α, σ for both halves and the view is linear, so averaging x̂_0 the same way
        // keeps the pair consistent: x̂_0 = (x_t − σ ε̃)/α.
        var eps = (both.Epsilon[..b] + View.Inverse(both.Epsilon[b..])) / 2;
        var x0 = (both.X0[..b] + View.Inverse(both.X0[b..])) / 2;
        return new Prediction(eps.MoveToOuterDisposeScope(), x0.MoveToOuterDisposeScope());
    }
}
