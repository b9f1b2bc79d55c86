using DiffusionLab.Cli;

namespace DiffusionLab.Tests.Cli;

public class ProgressReporterTests
{
    [Fact]
    public void RedirectedOutputGetsAPlainLineEveryTenthAndTheEnd()
    {
        var output = new StringWriter();
        var progress = new ProgressReporter(output, "sampling", terminal: false);
        for (int i = 1; i <= 300; i++) progress.Report(i, 300);
        progress.Done();
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.InRange(lines.Length, 10, 11); // 10 %, 20 %, … 100 % (and the first unit when a 10 s pause came first)
        Assert.StartsWith("sampling: 100 % (300/300)", lines[^1]);
        Assert.Contains("ETA", lines[0]);
        Assert.DoesNotContain("\r", output.ToString());
    }

    [Fact]
    public void ATerminalGetsOneLineRedrawnInPlaceAndClearedAtTheEnd()
    {
        var output = new StringWriter();
        var progress = new ProgressReporter(output, "training", terminal: true);
        progress.Report(1, 4);
        progress.Report(4, 4);
        progress.Done();
        var text = output.ToString();
        Assert.StartsWith("\rtraining: 25 % (1/4)", text);
        Assert.Contains("\rtraining: 100 % (4/4)", text);
        Assert.EndsWith("\r", text);
        Assert.DoesNotContain("\n", text);
    }
}
