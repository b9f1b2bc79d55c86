using DiffusionLab.Conditioning;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Conditioning;

public class MiniLmPromptEncoderTests
{
    private static readonly MiniLmPromptEncoder Encoder = new(maxTokens: 8);

    [Fact]
    public void PromptsAreBertWordPiecesBetweenClsAndSep()
    {
        // ids of the published bert-base-uncased vocabulary, which all-MiniLM-L6-v2 keeps: [CLS] 101, [SEP] 102,
        // "cat" 4937, "face" 2227; lower-cased first
        var tokens = Encoder.Encode("  Cat FACE ");
        Assert.Equal([101L, 4937, 2227, 102], tokens.Ids);
        Assert.Equal(4, tokens.Length);
        Assert.Equal(0, tokens.Truncated);
        Assert.Empty(tokens.Unknown);
    }

    [Fact]
    public void TheEmptyPromptHasNoTokensAndIsAllZeros()
    {
        Assert.Equal(0, Encoder.Encode("   ").Length);
        using var features = Encoder.EncodeBatch([null, "", " \t"]);
        Assert.Equal([3L, 7, MiniLmPromptEncoder.Channels], features.shape);
        Assert.Equal(0, features.abs().sum().item<float>());
    }

    [Fact]
    public void APromptReadsTheSameAloneOrInABatchWithThePresenceChannelSet()
    {
        using var scope = torch.NewDisposeScope();
        var alone = Encoder.EncodeBatch(["red apple"]);
        var batch = Encoder.EncodeBatch(["a much longer prompt than that", "red apple", null]);
        Assert.True(alone[0].eq(batch[1]).all().item<bool>());
        // [CLS] red apple [SEP]: four present positions, then none
        var present = alone[0].select(1, MiniLmPromptEncoder.FeatureWidth);
        Assert.Equal([1f, 1, 1, 1, 0, 0, 0], present.data<float>().ToArray());
        Assert.True(alone[0].narrow(0, 4, 3).eq(0).all().item<bool>());
        Assert.True(alone[0].narrow(0, 0, 4).narrow(1, 0, MiniLmPromptEncoder.FeatureWidth).abs().sum(1).gt(0).all().item<bool>());
    }

    [Fact]
    public void LongPromptsAreCutAndUnknownCharactersNamed()
    {
        // 8 positions: the network's start token, [CLS], 5 word pieces, [SEP]
        Assert.Equal(5, Encoder.MaxPromptTokens);
        var cut = Encoder.Encode("one two three four five six seven");
        Assert.Equal(7, cut.Length);
        Assert.Equal(2, cut.Truncated);
        Assert.Equal(102L, cut.Ids[^1]);
        // BERT's normalisation drops emoji and control characters, and reads most CJK characters as [UNK]
        var unknown = Encoder.Encode("hedgehog 😺 face \u0001 猫 😺");
        Assert.Equal(["😺", "\\u0001", "猫"], unknown.Unknown);
        Assert.Equal([101L, 17834, 25852, 2227, 100, 102], unknown.Ids); // hedge·hog face [UNK]
        Assert.Throws<DiffusionLabException>(() => new MiniLmPromptEncoder(3));
    }

    [Fact]
    public void NamesNoCaptionHasLandNearTheWordsTheyMean()
    {
        // why a frozen encoder: a held-out emoji name is nearer its category's word than another category's (cosine of
        // the mean token features, sentence-transformers' pooling, Reimers & Gurevych 2019)
        using var scope = torch.NewDisposeScope();
        var encoder = new MiniLmPromptEncoder(24);
        Tensor Pooled(string prompt)
        {
            var f = encoder.EncodeBatch([prompt])[0];
            var present = f.select(1, MiniLmPromptEncoder.FeatureWidth).unsqueeze(1);
            var mean = (f.narrow(1, 0, MiniLmPromptEncoder.FeatureWidth) * present).sum(dim: 0) / present.sum();
            return mean / mean.norm();
        }
        double Cos(string a, string b) => Pooled(a).dot(Pooled(b)).item<float>();
        Assert.True(Cos("hedgehog", "animal") > Cos("hedgehog", "food") + 0.1);
        Assert.True(Cos("kangaroo", "animal") > Cos("kangaroo", "flag") + 0.1);
        Assert.True(Cos("pineapple", "food") > Cos("pineapple", "animal") + 0.05);
        Assert.True(Cos("flag: peru", "flag: japan") > Cos("flag: peru", "grinning face") + 0.3);
    }
}
