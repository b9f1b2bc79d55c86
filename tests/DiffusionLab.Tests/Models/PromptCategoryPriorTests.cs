using DiffusionLab.Conditioning;
using DiffusionLab.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Models;

public class PromptCategoryPriorTests
{
    // frozen-feature conditions [B, L, F + 1] with the given number of present tokens per prompt (random features)
    private static Tensor Features(Generator g, params int[] present)
    {
        var c = torch.zeros(present.Length, 6, FrozenPromptFeatures.Channels);
        for (int i = 0; i < present.Length; i++)
            if (present[i] > 0)
            {
                c[i, ..present[i], ..FrozenPromptFeatures.Width] = torch.randn(present[i], FrozenPromptFeatures.Width, generator: g);
                c[i, ..present[i], FrozenPromptFeatures.Width] = torch.tensor(1f);
            }
        return c;
    }

    [Fact]
    public void TheSentenceEmbeddingIsTheNormalisedMeanOfThePresentTokens()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(3);
        var c = Features(g, 3, 1, 0);
        var embedding = PromptCategoryPrior.SentenceEmbedding(c);
        // by hand: the mean of the first rows, divided by its length
        for (int i = 0; i < 2; i++)
        {
            int n = i == 0 ? 3 : 1;
            var mean = c[i, ..n, ..FrozenPromptFeatures.Width].mean([0]);
            var expected = mean / mean.norm();
            Assert.True(embedding[i].allclose(expected, rtol: 1e-5, atol: 1e-6));
        }
        Assert.Equal(0f, embedding[2].abs().sum().item<float>()); // the empty prompt: nothing to pool
        Assert.Equal(new[] { false, false, true }, PromptCategoryPrior.IsEmpty(c).data<bool>().ToArray());
        // features written where the presence flag is 0 are not read
        var noisy = c.clone();
        noisy[0, 4, ..FrozenPromptFeatures.Width] = torch.ones(FrozenPromptFeatures.Width);
        Assert.True(PromptCategoryPrior.SentenceEmbedding(noisy).allclose(embedding));
    }

    [Fact]
    public void TheFitReadsSeparableCategoriesAndReachesTheOptimum()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(5);
        // three categories: unit vectors scattered around three random directions
        var centres = nn.functional.normalize(torch.randn(3, FrozenPromptFeatures.Width, generator: g), dim: 1);
        var labels = torch.arange(60, ScalarType.Int64) % 3;
        var x = nn.functional.normalize(centres.index_select(0, labels) + 0.05 * torch.randn(60, FrozenPromptFeatures.Width, generator: g), dim: 1);
        using var prior = new PromptCategoryPrior(3);
        Assert.False(prior.IsFitted);
        Assert.Equal(1.0, prior.Fit(x, labels, steps: 300, l2: 1e-3));
        Assert.True(prior.IsFitted);
        // an independent check of the optimum: the gradient of the penalised cross-entropy at the fitted weights is ~0
        var w = prior.state_dict()["weight"].clone().requires_grad_();
        var b = prior.state_dict()["bias"].clone().requires_grad_();
        var loss = nn.functional.cross_entropy(nn.functional.linear(x, w, b), labels) + 1e-3 * w.pow(2).sum();
        loss.backward();
        Assert.True(w.grad!.norm().item<float>() < 1e-3 && b.grad!.norm().item<float>() < 1e-3, $"gradient {w.grad!.norm().item<float>()}, {b.grad!.norm().item<float>()}");
        // the probabilities of a prompt are a distribution, and new points near a centre read as its category
        var probabilities = prior.Logits(centres).softmax(1);
        Assert.True(probabilities.sum(1).allclose(torch.ones(3)));
        Assert.Equal(new long[] { 0, 1, 2 }, probabilities.argmax(1).data<long>().ToArray());
        // the same data fit the same weights (no seed involved)
        using var again = new PromptCategoryPrior(3);
        again.Fit(x, labels, steps: 300, l2: 1e-3);
        Assert.Equal(0f, (again.state_dict()["weight"] - prior.state_dict()["weight"]).abs().max().item<float>());
    }

    [Fact]
    public void BadInputIsRefused()
    {
        Assert.Throws<DiffusionLabException>(() => new PromptCategoryPrior(1));
        using var prior = new PromptCategoryPrior(2);
        Assert.Throws<ArgumentException>(() => prior.Fit(torch.zeros(4, 10), torch.zeros(4, ScalarType.Int64)));
        Assert.Throws<ArgumentException>(() => prior.Fit(torch.zeros(2, FrozenPromptFeatures.Width), torch.tensor(new long[] { 0, 2 })));
        var e = Assert.Throws<DiffusionLabException>(() => new DdpmUNet(new DdpmUNetConfig
        {
            InChannels = 3, ImageSize = 8, Ch = 8, ChMult = [1, 2], NumResBlocks = 1, AttnResolutions = [4],
            Text = new TextEncoderConfig { VocabSize = 10, MaxTokens = 8, Width = 16, Layers = 1, Heads = 2, Categories = 3 },
        }));
        Assert.Contains("reads a frozen encoder's features", e.Message);
    }

    [Fact]
    public void AUNetWithAPriorAddsTheExpectedClassEmbeddingAndStillGuidesInOneBatch()
    {
        using var net = TextConditionedUNetTests.TinyOnFrozenFeatures(categories: 3);
        var encoder = new MiniLmPromptEncoder(8);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        // a prior fitted to three prompts, one per category
        var prompts = new[] { "red apple", "cat face", "rocket" };
        var features = encoder.EncodeBatch(prompts);
        Assert.Equal(1.0, net.PromptPrior!.Fit(PromptCategoryPrior.SentenceEmbedding(features), torch.tensor(new long[] { 0, 1, 2 })));
        var x = torch.randn(3, 3, 8, 8, generator: new Generator(2));
        var t = torch.tensor(new[] { 0.1f, 0.5f, 0.9f });
        var full = net.Forward(x, t, features);
        // the category embedding is read: other rows of the class embedding change the output, but not that of the empty prompt
        var empty = encoder.EncodeBatch([null, null, null]);
        var unconditional = net.forward(x, t);
        Assert.True(unconditional.allclose(net.Forward(x, t, empty), rtol: 1e-6, atol: 1e-6));
        var state = net.state_dict();
        Assert.Contains("prompt_prior.weight", state.Keys);
        Assert.Equal(new long[] { 4, 32 }, state["class_emb.weight"].shape); // three categories and the null row
        state["class_emb.weight"].narrow(0, 0, 3).add_(1);
        Assert.False(full.allclose(net.Forward(x, t, features), rtol: 1e-4, atol: 1e-4));
        Assert.True(unconditional.allclose(net.forward(x, t), rtol: 1e-6, atol: 1e-6));
        full = net.Forward(x, t, features);
        // fewer padding positions read the same, and classifier-free guidance's two passes batch
        Assert.True(full.allclose(net.Forward(x, t, features.narrow(1, 0, 5)), rtol: 1e-5, atol: 1e-5));
        var pair = ((IClassConditionalNetwork)net).ForwardPair(x, t, features, empty);
        Assert.True(pair.narrow(0, 0, 3).allclose(full, rtol: 1e-5, atol: 1e-5));
        Assert.True(pair.narrow(0, 3, 3).allclose(unconditional, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void AClassModelsEmbeddingCarriesOverToATextModelWithAPrior()
    {
        torch.manual_seed(4);
        using var classes = new DdpmUNet(new DdpmUNetConfig { InChannels = 3, ImageSize = 8, Ch = 8, ChMult = [1, 2], NumResBlocks = 1, AttnResolutions = [4], NumClasses = 3 });
        using var text = TextConditionedUNetTests.TinyOnFrozenFeatures(categories: 3);
        var report = WeightTransfer.CopyMatching(classes, text, "class model");
        Assert.DoesNotContain("class_emb", report.NewHere);
        Assert.Contains("prompt_prior", report.NewHere);
        Assert.Equal(0f, (text.state_dict()["class_emb.weight"] - classes.state_dict()["class_emb.weight"]).abs().max().item<float>());
    }
}
