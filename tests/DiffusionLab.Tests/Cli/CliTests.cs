using System.Diagnostics;
using System.Globalization;
using DiffusionLab.Cli;
using DiffusionLab.Tests.Golden;
using SkiaSharp;

namespace DiffusionLab.Tests.Cli;

public class CliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static string TempDir() => CliRunner.Temp("difflab-cli");

    [Fact]
    public void ScheduleWritesCsvWithExactColumnsAndPlots()
    {
        var dir = TempDir();
        var (code, _, err) = Run("schedule", "--schedules", "linear,cosine,quadratic,sigmoid,sqrt", "--steps", "1000", "--out", dir);
        Assert.True(code == 0, err);
        var lines = File.ReadAllLines(Path.Combine(dir, "schedule.csv"));
        Assert.Equal("schedule,t,beta,alpha,alpha_bar,snr", lines[0]);
        Assert.Equal(1 + 5 * 1000, lines.Length);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(Enumerable.Range(1, 1000).Select(t => t.ToString(CultureInfo.InvariantCulture)), rows.Where(r => r[0] == "cosine").Select(r => r[1]));
        // Values in the file match the independent reference to 1e-6.
        foreach (var g in GoldenData.Rows("schedules_golden.csv").Where(r => !r["schedule"].Contains('+')))
        {
            var row = rows.Single(r => r[0] == g["schedule"] && r[1] == g["t"]);
            double beta = GoldenData.D(row[2]), alpha = GoldenData.D(row[3]), alphaBar = GoldenData.D(row[4]), snr = GoldenData.D(row[5]);
            Assert.Equal(GoldenData.D(g["beta"]), beta, 1e-6);
            Assert.Equal(1 - GoldenData.D(g["beta"]), alpha, 1e-6);
            Assert.Equal(GoldenData.D(g["alpha_bar"]), alphaBar, 1e-6);
            var ab = GoldenData.D(g["alpha_bar"]);
            Assert.Equal(ab / (1 - ab), snr, 1e-6 * Math.Max(1, snr));
        }
        foreach (var f in new[] { "beta.png", "alpha_bar.png", "log_snr.png", "schedules.png" })
        {
            using var bmp = SKBitmap.Decode(Path.Combine(dir, f));
            Assert.True(bmp is { Width: > 100, Height: > 100 }, f);
        }
    }

    [Fact]
    public void ForwardWritesStripHistogramsAndCurves()
    {
        var dir = TempDir();
        var (code, output, err) = Run("forward", "--schedules", "linear,cosine", "--steps", "200", "--size", "16", "--out", dir, "--seed", "3");
        Assert.True(code == 0, err);
        foreach (var f in new[] { "strip.png", "histograms.png", "structure.png", "structure.csv", "report.md" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        Assert.Contains("keeps the data structured longest", output);
    }

    [Fact]
    public void ForwardIsReproducibleForAGivenSeed()
    {
        string Csv(string seed)
        {
            var dir = TempDir();
            var (code, _, err) = Run("forward", "--steps", "100", "--size", "16", "--out", dir, "--seed", seed);
            Assert.True(code == 0, err);
            return File.ReadAllText(Path.Combine(dir, "structure.csv"));
        }
        Assert.Equal(Csv("5"), Csv("5"));
        Assert.NotEqual(Csv("5"), Csv("6"));
    }

    [Fact]
    public void ForwardAcceptsAUserImage()
    {
        var dir = TempDir();
        var image = Path.Combine(dir, "in.png");
        using (var bmp = DiffusionLab.Imaging.DemoImage.Create(40)) DiffusionLab.Imaging.ImageTensor.SavePng(bmp, image);
        var (code, _, err) = Run("forward", "--image", image, "--steps", "50", "--size", "24", "--out", Path.Combine(dir, "o"));
        Assert.True(code == 0, err);
        using var x0 = SKBitmap.Decode(Path.Combine(dir, "o", "x0.png"));
        Assert.Equal(24, x0.Width);
    }

    [Theory]
    [InlineData(1, "unknown schedule 'nope'", "schedule", "--schedules", "nope")]
    [InlineData(1, "--steps must be at least 1", "schedule", "--steps", "0")]
    [InlineData(1, "--diffusion-steps must be positive, got 0", "toy", "train", "--diffusion-steps", "0", "--steps", "5")]
    [InlineData(1, "image not found: missing.png", "forward", "--image", "missing.png")]
    [InlineData(2, "Unrecognized command or argument '--bogus'", "schedule", "--bogus")]
    [InlineData(2, "Cannot parse argument 'abc'", "schedule", "--steps", "abc")]
    [InlineData(1, "unknown device 'tpu'", "schedule", "--device", "tpu")]
    [InlineData(1, "--size must be between", "forward", "--size", "3")]
    [InlineData(2, "Required command was not provided", new string[0])]
    [InlineData(1, "unknown dataset 'nope'", "toy", "data", "--dataset", "nope")]
    [InlineData(1, "number of points must be positive, got 0", "toy", "data", "--n", "0")]
    public void BadInputGivesOneLineAndNonZeroExit(int expectedCode, string message, params string[] args)
    {
        var dir = TempDir();
        var (code, _, err) = Run(args.Length == 0 ? args : [.. args, "--out", dir]);
        Assert.Equal(expectedCode, code);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("difflab: error: ", lines[0]);
        Assert.Contains(message, lines[0]);
    }

    [Fact]
    public void ToyDataWritesPointsAndAScatterPlot()
    {
        var dir = TempDir();
        var (code, _, err) = Run("toy", "data", "--dataset", "moons", "--n", "300", "--out", dir);
        Assert.True(code == 0, err);
        Assert.Equal(301, File.ReadAllLines(Path.Combine(dir, "data.csv")).Length);
        using var png = SKBitmap.Decode(Path.Combine(dir, "data.png"));
        Assert.NotNull(png);
    }

    [Fact]
    public void ToyTrainSampleEvalEndToEnd()
    {
        var dir = TempDir();
        var run = Path.Combine(dir, "run");
        var (code, _, err) = Run("toy", "train", "--steps", "30", "--batch-size", "64", "--data-size", "500", "--width", "16", "--depth", "1",
            "--diffusion-steps", "100", "--out", run);
        Assert.True(code == 0, err);
        foreach (var f in new[] { "config.json", "checkpoint.bin", "loss.csv", "loss.png" }) Assert.True(File.Exists(Path.Combine(run, f)), f);
        var csv = Path.Combine(dir, "s.csv");
        (code, var output, err) = Run("toy", "sample", "--run", run, "--sampler", "ddim", "--steps", "10", "--n", "2048", "--out", csv);
        Assert.True(code == 0, err);
        Assert.Contains("10 network evaluations", output);
        Assert.Equal(2049, File.ReadAllLines(csv).Length);
        (code, output, err) = Run("toy", "eval", "--samples", csv, "--protocol", "sum2048", "--json");
        Assert.True(code == 0, err);
        using var doc = System.Text.Json.JsonDocument.Parse(output);
        Assert.True(doc.RootElement.GetProperty("chamfer").GetDouble() > 0);
        Assert.True(doc.RootElement.GetProperty("emd").GetDouble() > 0);
        Assert.Equal(2048, doc.RootElement.GetProperty("n").GetInt32());

        // The sampler study: every sampler at each budget, Heun on ⌈(k+1)/2⌉ levels (2k − 1 evaluations ≤ budget).
        var study = Path.Combine(dir, "study");
        (code, output, err) = Run("toy", "study", "--run", run, "--samplers", "ddim,heun-karras,dpm++2m", "--nfe-list", "3,8", "--out", study);
        Assert.True(code == 0, err);
        var rows = File.ReadAllLines(Path.Combine(study, "study.csv"));
        Assert.Equal(7, rows.Length);
        Assert.Contains("heun-karras,3,2,3,", rows[2]);
        Assert.Contains("heun-karras,8,4,7,", rows[5]);
        Assert.True(new FileInfo(Path.Combine(study, "chamfer-vs-nfe.png")).Length > 1000);
        Assert.Contains("unknown sampler 'euler'", Run("toy", "study", "--run", run, "--samplers", "ddim,euler", "--out", study).Err);

        // Bad input: a sampler of the other family, too few samples for a protocol, a bad CSV row, n = 0.
        Assert.Contains("does not fit a ddpm model", Run("toy", "sample", "--run", run, "--sampler", "em", "--out", csv).Err);
        Assert.Contains("--n must be positive", Run("toy", "sample", "--run", run, "--n", "0", "--out", csv).Err);
        Assert.Contains("needs 10000 samples", Run("toy", "eval", "--samples", csv, "--protocol", "group100").Err);
        File.WriteAllText(csv, "x,y\n1,2\n3,oops\n");
        var bad = Run("toy", "eval", "--samples", csv);
        Assert.Equal(1, bad.Code);
        Assert.Contains("line 3: 'oops' is not a finite number", bad.Err);
        Assert.Contains("not a run or model folder", Run("toy", "sample", "--run", dir, "--out", csv).Err);
        Assert.Contains("unknown dataset 'nope'", Run("toy", "train", "--dataset", "nope", "--out", run).Err);
    }

    [Fact]
    public void ToyBridgeTrainsAndSamplesBothWays()
    {
        var dir = TempDir();
        var run = Path.Combine(dir, "bridge");
        var (code, output, err) = Run("toy", "train", "--bridge-from", "8gaussians", "--dataset", "moons", "--sigma", "0.5", "--steps", "20",
            "--data-size", "500", "--width", "16", "--depth", "1", "--out", run);
        Assert.True(code == 0, err);
        var config = File.ReadAllText(Path.Combine(run, "config.json"));
        Assert.Contains("\"Process\": \"bridge\"", config);
        Assert.Contains("\"Source\": \"8gaussians\"", config);
        Assert.Contains("\"BatchSize\": 256", config); // a bridge's default batch
        foreach (var (sampler, backward, nfe) in new[] { ("bridge-sde", false, 8), ("bridge-ode", true, 16) })
        {
            var csv = Path.Combine(dir, $"{sampler}.csv");
            var args = new List<string> { "toy", "sample", "--run", run, "--sampler", sampler, "--steps", "8", "--n", "300", "--paths", "--out", csv };
            if (backward) args.Add("--backward");
            (code, output, err) = Run(args.ToArray());
            Assert.True(code == 0, err);
            Assert.Contains($"{nfe} network evaluations", output);
            Assert.Equal(301, File.ReadAllLines(csv).Length);
            Assert.True(new FileInfo(Path.ChangeExtension(csv, ".paths.png")).Length > 1000);
        }
        // the default sampler of a bridge run is bridge-sde; samplers of other families and backward diffusion are clear errors
        (code, output, err) = Run("toy", "sample", "--run", run, "--steps", "4", "--n", "50", "--out", Path.Combine(dir, "d.csv"));
        Assert.True(code == 0, err);
        Assert.Contains("4 network evaluations", output);
        Assert.Contains("does not fit a bridge model", Run("toy", "sample", "--run", run, "--sampler", "ddim", "--out", Path.Combine(dir, "x.csv")).Err);
        Assert.Contains("choose one of --ddpm, --sde and --bridge-from", Run("toy", "train", "--sde", "vp", "--bridge-from", "moons", "--out", Path.Combine(dir, "y")).Err);
        Assert.Contains("--sigma must be positive and finite", Run("toy", "train", "--bridge-from", "moons", "--sigma", "0", "--out", Path.Combine(dir, "z")).Err);
        Assert.Contains("unknown dataset 'nope'", Run("toy", "train", "--bridge-from", "nope", "--out", Path.Combine(dir, "w")).Err);
    }

    [Fact]
    public void SdePlotWritesTheSeedsGraphs()
    {
        var dir = TempDir();
        var (code, _, err) = Run("sde", "plot", "--out", dir);
        Assert.True(code == 0, err);
        foreach (var f in new[] { "sde_mean.png", "sde_std.png", "sde_marginal_vs_prior.png" })
        {
            using var bmp = SKBitmap.Decode(Path.Combine(dir, f));
            Assert.NotNull(bmp);
        }
    }

    [Fact]
    public void EveryVerbHasHelp()
    {
        foreach (var verb in new[] { "schedule", "forward", "demo" })
        {
            var (code, output, _) = Run(verb, "--help");
            Assert.Equal(0, code);
            Assert.Contains("--seed", output);
            Assert.Contains("--device", output);
            Assert.Contains("--out", output);
        }
    }

    [Fact]
    public void TheRealExecutableExitsNonZeroWithOneLineAndNoStackTrace()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "difflab.dll");
        var psi = new ProcessStartInfo("dotnet", [dll, "schedule", "--schedules", "nope", "--out", TempDir()])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(1, p.ExitCode);
        Assert.Equal("difflab: error: unknown schedule 'nope' (choose from linear, cosine, quadratic, sigmoid, sqrt, or beta=EXPR / alphabar=EXPR in t = step/T)", err.Trim());
    }
}
