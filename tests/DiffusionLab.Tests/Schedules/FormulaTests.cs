using DiffusionLab.Schedules;

namespace DiffusionLab.Tests.Schedules;

public class FormulaTests
{
    [Theory]
    [InlineData("1+2*3", 0, 7)]
    [InlineData("(1+2)*3", 0, 9)]
    [InlineData("2^3^2", 0, 512)]
    [InlineData("-2^2", 0, -4)]
    [InlineData("1e-4*2", 0, 2e-4)]
    [InlineData("2.5E+1", 0, 25)]
    [InlineData("t*T", 0.25, 250)]
    [InlineData("sqrt(t)+abs(-1)", 0.25, 1.5)]
    [InlineData("max(t, 0.5) - min(t, 0.1)", 0.2, 0.4)]
    [InlineData("sigmoid(0)", 0, 0.5)]
    [InlineData("cos(pi)", 0, -1)]
    [InlineData("log(e)", 0, 1)]
    [InlineData("clip(t, 0.3, 0.6)", 0.9, 0.6)]
    [InlineData("exp(1) - e", 0, 0)]
    public void Evaluates(string text, double t, double expected) =>
        Assert.Equal(expected, Formula.Compile(text)(t, 1000), 1e-12);

    [Theory]
    [InlineData("1+")]
    [InlineData("(1")]
    [InlineData("foo(1)")]
    [InlineData("x")]
    [InlineData("1 2")]
    [InlineData("min(1)")]
    [InlineData("$")]
    public void RejectsBadSyntax(string text) =>
        Assert.StartsWith("bad formula", Assert.Throws<DiffusionLabException>(() => Formula.Compile(text)).Message);
}
