using DiffusionLab.Data;

namespace DiffusionLab.Tests.Data;

public class ClassSelectorTests
{
    private static readonly string[] Emoji = EmojiDataset.ClassNames;
    private static readonly string[] Digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    [Theory]
    [InlineData("animals", new[] { 2 })]
    [InlineData("Animals & Nature", new[] { 2 })]
    [InlineData("nature,FLAGS,0", new[] { 2, 8, 0 })]
    [InlineData("food, travel", new[] { 3, 4 })]
    [InlineData("sym", new[] { 7 })]
    [InlineData("6", new[] { 6 })]
    public void NamesPrefixesAndIndicesSelectClasses(string spec, int[] expected) => Assert.Equal(expected, ClassSelector.Parse(spec, Emoji));

    [Fact]
    public void DigitsAreTheirOwnNamesAndIndices() => Assert.Equal(new[] { 3, 8 }, ClassSelector.Parse("3,8", Digits));

    [Fact]
    public void AnAmbiguousOrUnknownNameIsAClearError()
    {
        var ambiguous = Assert.Throws<DiffusionLabException>(() => ClassSelector.Parse("s", Emoji)); // Smileys, Symbols
        Assert.Contains("Smileys & Emotion or Symbols", ambiguous.Message);
        var unknown = Assert.Throws<DiffusionLabException>(() => ClassSelector.Parse("cars", Emoji));
        Assert.Contains("no class is called 'cars'", unknown.Message);
        Assert.Contains("2 Animals & Nature", unknown.Message);
        Assert.Contains("class 9 is out of range", Assert.Throws<DiffusionLabException>(() => ClassSelector.Parse("9", Emoji)).Message);
        // the error names the setting the list came from, so the CLI can say its own flag
        Assert.Contains("NoFlipClasses", Assert.Throws<DiffusionLabException>(() => ClassSelector.Parse("cars", Emoji, "NoFlipClasses")).Template);
    }
}
