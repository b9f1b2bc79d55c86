using DiffusionLab.Conditioning;
using DiffusionLab.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Models;

public class TextConditionedUNetTests
{
    private static readonly string[] Captions = ["grinning cat face", "red apple", "thumbs up sign, medium skin tone"];

    private static (DdpmUNet Net, PromptVocabulary Vocabulary) Tiny(int maxTokens = 8)
    {
        // 8 px RGB, attention (and cross-attention) at 4 px and in the middle, a one-layer text encoder
        var vocabulary = PromptVocabulary.FromCaptions(Captions, maxTokens);
        torch.manual_seed(1);
        var net = new DdpmUNet(new DdpmUNetConfig
        {
            InChannels = 3, ImageSize = 8, Ch = 8, ChMult = [1, 2], NumResBlocks = 1, AttnResolutions = [4], Dropout = 0,
            Text = new TextEncoderConfig { VocabSize = vocabulary.Size, MaxTokens = maxTokens, Width = 16, Layers = 1, Heads = 2 },
        });
        net.eval();
        return (net, vocabulary);
    }

    [Fact]
    public void TheEncoderAndTheCrossAttentionGiveTheShapesAndIgnorePadding()
    {
        var (net, vocabulary) = Tiny();
        using var _ = net;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var ids = vocabulary.EncodeBatch(["red apple", "grinning cat face", null]);
        var encoder = new TextEncoder(new TextEncoderConfig { VocabSize = vocabulary.Size, MaxTokens = 8, Width = 16, Layers = 1, Heads = 2 });
        encoder.eval();
        var (tokens, pooled, padding) = encoder.call(ids);
        Assert.Equal(ids.eq(TextEncoder.PadId).data<bool>().ToArray(), padding.data<bool>().ToArray());
        Assert.Equal([3L, 8, 16], tokens.shape);
        Assert.Equal([3L, 16], pooled.shape);
        var x = torch.randn(3, 3, 8, 8, generator: new Generator(2));
        var t = torch.tensor(new[] { 0.1f, 0.5f, 0.9f });
        var out8 = net.Forward(x, t, ids);
        Assert.Equal(x.shape, out8.shape);
        // the same prompts with less padding read the same: attention never sees a pad, the pooled mean skips them
        var shorter = ids.narrow(1, 0, 5); // columns 5..7 are padding in every row
        Assert.True(ids.narrow(1, 5, 3).eq(0).all().item<bool>());
        var out5 = net.Forward(x, t, shorter);
        Assert.True(out8.allclose(out5, rtol: 1e-5, atol: 1e-5), $"largest difference {(out8 - out5).abs().max().item<float>()}");
        // the prompt matters: another prompt gives another output
        var other = net.Forward(x, t, vocabulary.EncodeBatch(["thumbs up sign", "red apple", "red apple"]));
        Assert.False(out8.allclose(other, rtol: 1e-4, atol: 1e-4));
        // no condition is the empty prompt
        var none = net.Forward(x, t, vocabulary.EncodeBatch([null, null, null]));
        Assert.True(net.forward(x, t).allclose(none, rtol: 1e-6, atol: 1e-6));
    }

    [Fact]
    public void BatchedTextGuidanceEqualsTwoSeparatePasses()
    {
        var (net, vocabulary) = Tiny();
        using var _ = net;
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var x = torch.randn(2, 3, 8, 8, generator: new Generator(3));
        var t = torch.tensor(new[] { 0.3f, 0.7f });
        var prompts = vocabulary.EncodeBatch(["red apple", "grinning cat face"]);
        var empty = vocabulary.EncodeBatch([null, null]);
        var pair = ((IClassConditionalNetwork)net).ForwardPair(x, t, prompts, empty);
        var conditional = net.Forward(x, t, prompts);
        var unconditional = net.Forward(x, t, empty);
        Assert.True(pair.narrow(0, 0, 2).allclose(conditional, rtol: 1e-5, atol: 1e-5));
        Assert.True(pair.narrow(0, 2, 2).allclose(unconditional, rtol: 1e-5, atol: 1e-5));
    }

    // 8 px RGB on MiniLM features, a one-layer text encoder (and a prompt-category prior over that many categories)
    internal static DdpmUNet TinyOnFrozenFeatures(int categories = 0)
    {
        torch.manual_seed(1);
        var net = new DdpmUNet(new DdpmUNetConfig
        {
            InChannels = 3, ImageSize = 8, Ch = 8, ChMult = [1, 2], NumResBlocks = 1, AttnResolutions = [4], Dropout = 0,
            Text = new TextEncoderConfig { Frozen = MiniLmPromptEncoder.Name, MaxTokens = 8, Width = 16, Layers = 1, Heads = 2, Categories = categories },
        });
        net.eval();
        return net;
    }

    [Fact]
    public void OnFrozenFeaturesPaddingIsIgnoredTheEmptyPromptIsUnconditionalAndGuidanceBatches()
    {
        using var net = TinyOnFrozenFeatures();
        var encoder = new MiniLmPromptEncoder(8);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var features = encoder.EncodeBatch(["red apple", "cat face", null]); // [3, 7, 385]: at most 4 tokens present
        var x = torch.randn(3, 3, 8, 8, generator: new Generator(2));
        var t = torch.tensor(new[] { 0.1f, 0.5f, 0.9f });
        var full = net.Forward(x, t, features);
        Assert.Equal(x.shape, full.shape);
        // fewer padding positions read the same (attention never sees one; the pooled mean skips them)
        var shorter = net.Forward(x, t, features.narrow(1, 0, 4));
        Assert.True(full.allclose(shorter, rtol: 1e-5, atol: 1e-5), $"largest difference {(full - shorter).abs().max().item<float>()}");
        // the prompt matters
        Assert.False(full.allclose(net.Forward(x, t, encoder.EncodeBatch(["thumbs up", "red apple", "red apple"])), rtol: 1e-4, atol: 1e-4));
        // the empty prompt (no tokens) is the unconditional model, and the dropped condition is the empty prompt
        var empty = encoder.EncodeBatch([null, null, null]);
        Assert.True(net.forward(x, t).allclose(net.Forward(x, t, empty), rtol: 1e-6, atol: 1e-6));
        Assert.True(IClassConditionalNetwork.NullCondition(features).eq(empty).all().item<bool>());
        var dropped = IClassConditionalNetwork.Drop(features, torch.tensor(new[] { false, true, false }));
        Assert.True(dropped[0].eq(features[0]).all().item<bool>() && dropped[1].eq(empty[1]).all().item<bool>() && dropped[2].eq(features[2]).all().item<bool>());
        // classifier-free guidance's two passes, batched, equal two separate passes
        var pair = ((IClassConditionalNetwork)net).ForwardPair(x, t, features, empty);
        Assert.True(pair.narrow(0, 0, 3).allclose(full, rtol: 1e-5, atol: 1e-5));
        Assert.True(pair.narrow(0, 3, 3).allclose(net.forward(x, t), rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void AModelOnFrozenFeaturesRefusesTokenIdsAndAnUnknownEncoder()
    {
        using var net = TinyOnFrozenFeatures();
        using var x = torch.zeros(2, 3, 8, 8);
        using var t = torch.zeros(2);
        using var ids = torch.zeros(new long[] { 2, 8 }, ScalarType.Int64);
        Assert.Contains("takes them as [B, L ≤ 7, 385]", Assert.Throws<DiffusionLabException>(() => net.Forward(x, t, ids)).Message);
        var e = Assert.Throws<DiffusionLabException>(() => new TextEncoder(new TextEncoderConfig { Frozen = "clip", MaxTokens = 8 }));
        Assert.Contains("unknown frozen text encoder Frozen 'clip'", e.Message);
    }

    [Fact]
    public void AConfigWithoutTextWritesNoTextField()
    {
        // run folders written before text conditioning compare their config.json field by field on resume
        Assert.DoesNotContain("Text", System.Text.Json.JsonSerializer.Serialize(new DdpmUNetConfig()));
        Assert.Contains("\"Text\":{", System.Text.Json.JsonSerializer.Serialize(new DdpmUNetConfig { Text = new TextEncoderConfig { VocabSize = 9 } }));
        // nor a learned-vocabulary text model a Frozen field (the shipped text models before frozen encoders resume and load)
        Assert.DoesNotContain("Frozen", System.Text.Json.JsonSerializer.Serialize(new TextEncoderConfig { VocabSize = 9 }));
    }

    [Fact]
    public void ClassesAndTextTogetherOrBadTokensAreClearErrors()
    {
        var e = Assert.Throws<DiffusionLabException>(() => new DdpmUNet(new DdpmUNetConfig { NumClasses = 3, Text = new TextEncoderConfig { VocabSize = 10 } }));
        Assert.Contains("classes or on text, not both", e.Message);
        var (net, _) = Tiny();
        using var __ = net;
        using var x = torch.zeros(2, 3, 8, 8);
        using var t = torch.zeros(2);
        using var labels = torch.tensor(new long[] { 1, 2 });
        Assert.Contains("prompt tokens [B, L ≤ 8] (int64)", Assert.Throws<DiffusionLabException>(() => net.Forward(x, t, labels)).Message);
    }
}
