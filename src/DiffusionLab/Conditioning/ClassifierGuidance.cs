using DiffusionLab.Denoisers;

namespace DiffusionLab.Conditioning;

/// <summary>
/// Classifier guidance (Dhariwal &amp; Nichol 2021, eq. 14 with their gradient scale s of §4.3):
/// ε̃ = ε(x_t) − s·√(1 − ᾱ_t)·∇_{x_t} log p_φ(y | x_t, t), with a noise-aware classifier p_φ trained on x_t
/// (<c>difflab classifier train --noisy</c>). ε(x_t) is the unconditional model — the null-class pass of a
/// class-conditional network, or the baseline conditioning when given (e.g. class-free guidance, to combine both).
/// x̂_0 follows from ε̃: x̂_0 = (x_t − √(1 − ᾱ_t) ε̃)/√ᾱ_t.
/// </summary>
public sealed class ClassifierGuidance : IConditioning
{
    private readonly INoisyClassifier classifier;
    private readonly Tensor labels;
    private readonly IConditioning? baseline;

    public ClassifierGuidance(INoisyClassifier classifier, Tensor labels, double scale, IConditioning? baseline = null)
    {
        if (!classifier.NoiseAware)
            throw new DiffusionLabException("classifier guidance needs a noise-aware classifier p(y | x_t, t): train one on noisy images (`noiseSchedule`)");
        if (scale < 0) throw new DiffusionLabException($"the classifier scale must be non-negative, got {scale}");
        this.classifier = classifier;
        this.labels = labels;
        Scale = scale;
        this.baseline = baseline;
    }

    public double Scale { get; }

    public Prediction Predict(DiscreteModel model, Tensor x, Tensor steps)
    {
        using var scope = torch.NewDisposeScope();
        if (classifier.DiffusionSteps != model.Schedule.Steps)
            throw new DiffusionLabException($"the classifier was trained on a {classifier.DiffusionSteps}-step schedule ({classifier.NoiseSchedule}) but the model has {model.Schedule.Steps} steps; train it with the model's schedule");
        if (labels.shape[0] != x.shape[0]) throw new DiffusionLabException($"{labels.shape[0]} class labels for a batch of {x.shape[0]}");
        Prediction p;
        if (baseline is not null) p = baseline.Predict(model, x, steps);
        else if (model.Denoiser.Network is Models.IClassConditionalNetwork { NumClasses: > 0 })
            p = model.PredictLabels(x, steps, torch.full_like(labels, Models.IClassConditionalNetwork.NullLabel));
        else p = model.PredictLabels(x, steps, null);
        var (alpha, sigma) = model.Coefficients(steps, x);
        var grad = LogProbabilityGradient(x, steps, model.Schedule.Steps);
        var eps = p.Epsilon - Scale * sigma * grad;
        var x0 = (x - sigma * eps) / alpha;
        return new Prediction(eps.MoveToOuterDisposeScope(), x0.MoveToOuterDisposeScope());
    }

    /// <summary>∇_{x_t} log p_φ(y | x_t, t) [B, C, H, W] (each image's own gradient: the log-probabilities are summed).</summary>
    public Tensor LogProbabilityGradient(Tensor x, Tensor steps, int totalSteps)
    {
        using var grad = torch.enable_grad();
        using var scope = torch.NewDisposeScope();
        var xin = x.detach().requires_grad_(true);
        var time = steps.to_type(ScalarType.Float32).to(x.device) / totalSteps;
        var logits = classifier.NoisyLogits(xin, time);
        var logp = nn.functional.log_softmax(logits, 1);
        var picked = logp.gather(1, labels.to(logits.device).view(-1, 1)).sum();
        var g = torch.autograd.grad([picked], [xin])[0];
        return g.to(x.device).MoveToOuterDisposeScope();
    }
}
