using DiffusionLab.Plotting;

namespace DiffusionLab.Tests.Plotting;

public class Log10TickGeneratorTests
{
    private static string[] Labels(double lowValue, double highValue) =>
        Log10TickGenerator.Generate(Math.Log10(lowValue), Math.Log10(highValue)).Where(t => t.Label.Length > 0).Select(t => t.Label).ToArray();

    [Fact]
    public void ALossWithinOneDecadeGetsLabelledTicks()
    {
        // a loss between 0.031 and 0.078: no power of ten in view, so a powers-only axis had no label at all
        var labels = Labels(0.031, 0.078);
        Assert.InRange(labels.Length, 3, 8);
        Assert.Equal(["0.04", "0.05", "0.06", "0.07"], labels);
        foreach (var tick in Log10TickGenerator.Generate(Math.Log10(0.031), Math.Log10(0.078)))
            Assert.Equal(tick.Position, Math.Log10(double.Parse(tick.Label, System.Globalization.CultureInfo.InvariantCulture)), 12); // at its value
    }

    [Fact]
    public void SeveralDecadesGetPowersOfTenAndOneDecadeAlsoTwoAndFive()
    {
        Assert.Equal(["0.001", "0.01", "0.1", "1", "10"], Labels(0.0009, 11));
        Assert.Equal(["0.05", "0.1", "0.2", "0.5"], Labels(0.04, 0.6)); // only one power of ten in view
        Assert.Equal(["1", "10", "100", "1,000"], Labels(1, 1000));     // thousands with a separator, not 1E+03
    }
}
