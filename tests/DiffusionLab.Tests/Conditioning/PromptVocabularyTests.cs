using DiffusionLab.Conditioning;

namespace DiffusionLab.Tests.Conditioning;

public class PromptVocabularyTests
{
    private static readonly string[] Captions = ["grinning cat face with smiling eyes", "thumbs up sign, medium skin tone", "red apple"];

    [Fact]
    public void Gpt2TokenizesKnownTextAsPublished()
    {
        // GPT-2's BPE: "Hello world" is tokens 15496 and 995 (the published vocabulary; " world" carries its space)
        Assert.Equal([15496, 995], PromptVocabulary.Gpt2Tokens("Hello world"));
    }

    [Fact]
    public void CaptionsBecomeACompactVocabularyWithReservedIds()
    {
        var v = PromptVocabulary.FromCaptions(Captions, maxTokens: 8);
        var gpt2 = Captions.SelectMany(PromptVocabulary.Gpt2Tokens).Distinct().ToList();
        Assert.Equal(gpt2, v.Gpt2Ids);
        Assert.Equal(3 + gpt2.Count, v.Size);
        var apple = v.Encode("red apple");
        Assert.Equal(PromptVocabulary.StartId, apple.Ids[0]);
        Assert.Equal(1 + PromptVocabulary.Gpt2Tokens("red apple").Count, apple.Length);
        Assert.All(apple.Ids[1..apple.Length], id => Assert.True(id >= 3 && id < v.Size));
        // the encoder's tokens are GPT-2's own (as the vocabulary was built from): id 3 + i for GPT-2 token Gpt2Ids[i]
        Assert.Equal(PromptVocabulary.Gpt2Tokens("red apple").Select(g => 3L + v.Gpt2Ids.ToList().IndexOf(g)), apple.Ids[1..apple.Length]);
        Assert.All(apple.Ids[apple.Length..], id => Assert.Equal(PromptVocabulary.PadId, id));
        Assert.Empty(apple.Unknown);
        Assert.Equal(0, apple.Truncated);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void AnEmptyPromptIsTheUnconditionalOne(string? prompt)
    {
        var v = PromptVocabulary.FromCaptions(Captions, maxTokens: 8);
        var tokens = v.Encode(prompt);
        Assert.Equal(1, tokens.Length);
        Assert.Equal([PromptVocabulary.StartId, 0, 0, 0, 0, 0, 0, 0], tokens.Ids);
    }

    [Fact]
    public void UnknownWordsLongPromptsAndOddBytesAreReadAndReported()
    {
        var v = PromptVocabulary.FromCaptions(Captions, maxTokens: 6);
        var zebra = v.Encode("red zebra");
        Assert.Contains(PromptVocabulary.UnknownId, zebra.Ids);
        Assert.Equal(["zebra"], zebra.Unknown); // named as the word written, whichever of its tokens the captions lacked
        var longPrompt = v.Encode(string.Join(' ', Enumerable.Repeat("red apple", 20)));
        Assert.Equal(6, longPrompt.Length);
        Assert.Equal(PromptVocabulary.Gpt2Tokens(string.Join(' ', Enumerable.Repeat("red apple", 20))).Count - 5, longPrompt.Truncated);
        // bytes that are not text: byte-level BPE still reads them, as tokens the captions never had
        var odd = v.Encode("\u0001\uFFFD🦓");
        Assert.True(odd.Length > 1);
        Assert.All(odd.Ids[1..odd.Length], id => Assert.Equal(PromptVocabulary.UnknownId, id));
        Assert.Equal(["\\u0001\uFFFD🦓"], odd.Unknown); // one word, its control character written out, not split bytes
        // characters that span several byte-level tokens are reported whole, each word once
        Assert.Equal(["猫", "😺"], PromptVocabulary.FromCaptions(Captions, maxTokens: 24).Encode("猫 😺 face 猫").Unknown);
        using var batch = v.EncodeBatch(["red apple", null]);
        Assert.Equal([2L, 6L], batch.shape);
        Assert.Equal(PromptVocabulary.StartId, batch[1, 0].item<long>());
        Assert.Equal(PromptVocabulary.PadId, batch[1, 1].item<long>());
        Assert.Contains("maxTokens", Assert.Throws<DiffusionLabException>(() => new PromptVocabulary([1, 2], 1)).Message);
    }
}
