namespace DiffusionLab.Models;

/// <summary>
/// A prompt's category as a distribution, read from a frozen sentence encoder's features: logistic regression on the
/// sentence embedding — the mean of the token features, L2-normalised, as sentence-transformers pools all-MiniLM-L6-v2
/// (Reimers &amp; Gurevych 2019) — fitted once on the training captions and their images' categories, then frozen.
/// <para>
/// Why: a text model fine-tuned from a class-conditional one can keep the class embedding its trunk was trained with and
/// be told the category through it, as unCLIP (Ramesh et al. 2022) puts a prior between the prompt and what the decoder
/// was trained on. The prior carries the category (a held-out name still lands near its category's words in the
/// sentence space), cross-attention to the prompt carries the rest. Its weights are buffers: the diffusion loss does not
/// train them, and the checkpoint, the EMA shadow and an export carry them.
/// </para>
/// </summary>
public sealed class PromptCategoryPrior : nn.Module<Tensor, Tensor>
{
    private readonly Tensor weight, bias;

    /// <summary>The number of categories.</summary>
    public int Categories { get; }

    public PromptCategoryPrior(int categories) : base(nameof(PromptCategoryPrior))
    {
        if (categories < 2) throw new DiffusionLabException($"a prompt-category prior needs at least 2 categories, got {categories}");
        Categories = categories;
        weight = torch.zeros(categories, FrozenPromptFeatures.Width);
        bias = torch.zeros(categories);
        register_buffer(nameof(weight), weight);
        register_buffer(nameof(bias), bias);
    }

    /// <summary>Whether <see cref="Fit"/> has set the weights (a new prior's are all zero: every category equally likely).</summary>
    public bool IsFitted => weight.abs().sum().item<float>() > 0;

    /// <summary>
    /// The sentence embedding of frozen prompt features [B, L, F + 1]: the mean of the features where the presence flag is
    /// set, L2-normalised [B, F]; zeros for the empty prompt (no tokens).
    /// </summary>
    public static Tensor SentenceEmbedding(Tensor condition)
    {
        using var scope = torch.NewDisposeScope();
        var present = FrozenPromptFeatures.Present(condition).to_type(ScalarType.Float32).unsqueeze(-1);
        var mean = (FrozenPromptFeatures.Features(condition) * present).sum(1) / present.sum(1).clamp_min(1);
        return nn.functional.normalize(mean, dim: 1).MoveToOuterDisposeScope();
    }

    /// <summary>Whether each prompt of <paramref name="condition"/> [B, L, F + 1] is empty (no tokens) [B].</summary>
    public static Tensor IsEmpty(Tensor condition) => FrozenPromptFeatures.Present(condition).any(1).logical_not();

    /// <summary>The category logits [B, K] of frozen prompt features [B, L, F + 1].</summary>
    public override Tensor forward(Tensor condition)
    {
        using var scope = torch.NewDisposeScope();
        return Logits(SentenceEmbedding(condition)).MoveToOuterDisposeScope();
    }

    /// <summary>The category logits [B, K] of sentence embeddings [B, F] (<see cref="SentenceEmbedding"/>).</summary>
    public Tensor Logits(Tensor embeddings) => nn.functional.linear(embeddings.to(weight.device), weight, bias);

    /// <summary>The category probabilities [B, K] of frozen prompt features [B, L, F + 1].</summary>
    public Tensor Probabilities(Tensor condition)
    {
        using var scope = torch.NewDisposeScope();
        return call(condition).softmax(1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Fits the weights to sentence embeddings [N, F] (<see cref="SentenceEmbedding"/>) and their categories [N]:
    /// multinomial logistic regression with an L2 penalty <paramref name="l2"/>·‖W‖², full-batch Adam from zero for
    /// <paramref name="steps"/> steps — a convex problem, so the result does not depend on a seed. Returns the share of the
    /// <paramref name="labels"/> the fitted prior puts first.
    /// </summary>
    public double Fit(Tensor embeddings, Tensor labels, int steps = 500, double l2 = 1e-4)
    {
        if (embeddings.dim() != 2 || embeddings.shape[1] != FrozenPromptFeatures.Width || labels.dim() != 1 || labels.shape[0] != embeddings.shape[0] || embeddings.shape[0] == 0)
            throw new ArgumentException($"a prompt-category prior fits sentence embeddings [N, {FrozenPromptFeatures.Width}] and labels [N]");
        using var scope = torch.NewDisposeScope();
        using var grad = torch.enable_grad(); // the fit may be called where gradients are off (sampling, a test)
        var x = embeddings.to_type(ScalarType.Float32).to(weight.device);
        var y = labels.to_type(ScalarType.Int64).to(weight.device);
        if (y.min().item<long>() < 0 || y.max().item<long>() >= Categories)
            throw new ArgumentException($"labels must lie in 0 … {Categories - 1}");
        var w = new TorchSharp.Modules.Parameter(torch.zeros_like(weight));
        var b = new TorchSharp.Modules.Parameter(torch.zeros_like(bias));
        // the embeddings are unit vectors, so logits stay small at a step of 0.05 and Adam converges in a few hundred steps
        using var optimizer = torch.optim.Adam([w, b], lr: 0.05);
        for (int step = 0; step < steps; step++)
        {
            using var stepScope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(nn.functional.linear(x, w, b), y) + l2 * w.pow(2).sum();
            loss.backward();
            optimizer.step();
        }
        using (torch.no_grad())
        {
            weight.copy_(w);
            bias.copy_(b);
            return nn.functional.linear(x, weight, bias).argmax(1).eq(y).to_type(ScalarType.Float64).mean().item<double>();
        }
    }
}
