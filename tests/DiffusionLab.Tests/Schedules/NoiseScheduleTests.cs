using DiffusionLab.Schedules;
using DiffusionLab.Tests.Golden;
using S = DiffusionLab.Schedules.NoiseSchedules;

namespace DiffusionLab.Tests.Schedules;

public class NoiseScheduleTests
{
    public static TheoryData<string> GoldenSchedules => new() { "linear", "quadratic", "sigmoid", "cosine", "sqrt", "linear+ztsnr" };

    private static NoiseSchedule Make(string name) =>
        name.EndsWith("+ztsnr") ? S.Create(name[..^"+ztsnr".Length], 1000, zeroTerminalSnr: true) : S.Create(name, 1000);

    [Theory]
    [MemberData(nameof(GoldenSchedules))]
    public void MatchesIndependentReferenceValues(string name)
    {
        // Golden/make_schedule_golden.py re-implements the reference codebases' formulas in plain Python.
        var s = Make(name);
        var rows = GoldenData.Rows("schedules_golden.csv").Where(r => r["schedule"] == name).ToList();
        Assert.NotEmpty(rows);
        foreach (var r in rows)
        {
            int t = int.Parse(r["t"]);
            Assert.Equal(GoldenData.D(r["beta"]), s.Beta(t), 1e-12);
            Assert.Equal(GoldenData.D(r["alpha_bar"]), s.AlphaBar(t), 1e-12);
            Assert.Equal(GoldenData.D(r["posterior_variance"]), s.PosteriorVariance(t), 1e-9);
        }
    }

    [Fact]
    public void LinearScheduleIsHoEtAlsEndpoints()
    {
        var s = S.Linear(1000);
        Assert.Equal(1e-4, s.Beta(1), 1e-15);
        Assert.Equal(0.02, s.Beta(1000), 1e-15);
        Assert.Equal(1.0, s.AlphaBar(0));
        Assert.Equal(0.0, s.Beta(0));
    }

    [Fact]
    public void CosineAlphaBarIsTheClosedFormWhereBetaIsNotClipped()
    {
        // Nichol & Dhariwal 2021, eq. 17: ᾱ_t = f(t)/f(0) as long as no β was clipped at 0.999.
        var s = S.Cosine(1000);
        double F(double u) => Math.Pow(Math.Cos((u + 0.008) / 1.008 * Math.PI / 2), 2);
        foreach (var t in new[] { 1, 10, 100, 500, 900, 990 })
            Assert.Equal(F(t / 1000.0) / F(0), s.AlphaBar(t), 1e-10);
        Assert.Equal(0.999, s.Beta(1000), 1e-12);
    }

    [Fact]
    public void DerivedQuantitiesAreConsistent()
    {
        foreach (var name in S.Names)
        {
            var s = S.Create(name, 200);
            double product = 1;
            for (int t = 1; t <= s.Steps; t++)
            {
                product *= s.Alpha(t);
                Assert.Equal(product, s.AlphaBar(t), 1e-12);
                Assert.Equal(Math.Sqrt(s.AlphaBar(t)), s.SqrtAlphaBar(t), 1e-12);
                Assert.Equal(Math.Sqrt(1 - s.AlphaBar(t)), s.SqrtOneMinusAlphaBar(t), 1e-12);
                Assert.Equal(s.AlphaBar(t) / (1 - s.AlphaBar(t)), s.Snr(t), 1e-9 * s.Snr(t));
                Assert.Equal(Math.Log(s.Snr(t)), s.LogSnr(t), 1e-9);
                Assert.InRange(s.PosteriorVariance(t), 0, s.Beta(t)); // β̃_t ≤ β_t
                Assert.True(s.AlphaBar(t) < s.AlphaBar(t - 1), $"{name}: ᾱ must decrease at t={t}");
            }
            Assert.Equal(0, s.PosteriorVariance(1));
        }
    }

    [Fact]
    public void ZeroTerminalSnrRescalingEndsAtZeroAndKeepsTheFirstStep()
    {
        var s = S.Linear(1000);
        var z = s.RescaleZeroTerminalSnr();
        Assert.Equal(0, z.AlphaBar(1000));
        Assert.Equal(double.NegativeInfinity, z.LogSnr(1000));
        Assert.Equal(s.AlphaBar(1), z.AlphaBar(1), 1e-12);
        Assert.Equal(1.0, z.Beta(1000));
    }

    [Fact]
    public void ContinuousAlphaBarInterpolatesLogAlphaBar()
    {
        var s = S.Linear(1000);
        Assert.Equal(s.AlphaBar(250), s.AlphaBarAt(250), 1e-15);
        Assert.Equal(1.0, s.AlphaBarAt(0));
        Assert.Equal(s.AlphaBar(1000), s.AlphaBarAt(1000), 1e-15);
        // Half-way in log space is the geometric mean.
        Assert.Equal(Math.Sqrt(s.AlphaBar(250) * s.AlphaBar(251)), s.AlphaBarAt(250.5), 1e-12);
        double prev = 1;
        for (double t = 0; t <= 1000; t += 0.37) { var v = s.AlphaBarAt(t); Assert.True(v <= prev); prev = v; }
        var z = s.RescaleZeroTerminalSnr();
        Assert.Equal(z.AlphaBar(999) / 2, z.AlphaBarAt(999.5), 1e-15);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.AlphaBarAt(1000.5));
    }

    [Fact]
    public void UserFormulasReproduceNamedSchedules()
    {
        var cosine = S.Create("alphabar=cos((t+0.008)/1.008*pi/2)^2", 1000);
        var linear = S.Create("beta=1e-4 + (0.02-1e-4)*(t*T-1)/(T-1)", 1000);
        for (int t = 1; t <= 1000; t++)
        {
            Assert.Equal(S.Cosine(1000).Beta(t), cosine.Beta(t), 1e-12);
            Assert.Equal(S.Linear(1000).Beta(t), linear.Beta(t), 1e-12);
        }
    }

    [Theory]
    [InlineData("nope", "unknown schedule 'nope'")]
    [InlineData("beta=2", "outside (0, 1]")]
    [InlineData("beta=-t", "outside (0, 1]")]
    [InlineData("beta=t+", "bad formula")]
    [InlineData("alphabar=0*t", "positive at t=0")]
    public void BadSchedulesGiveClearErrors(string spec, string message)
    {
        var e = Assert.Throws<DiffusionLabException>(() => S.Create(spec, 100));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void StepsMustBePositive() =>
        Assert.Contains("a noise schedule needs at least 1 step (T), got 0", Assert.Throws<DiffusionLabException>(() => S.Create("linear", 0)).Message);

    [Fact]
    public void SpecListSplitsOnTopLevelCommasOnly() =>
        Assert.Equal(["linear", "beta=min(t,0.5)*0.02", "cosine"], S.SplitSpecs("linear, beta=min(t,0.5)*0.02 ,cosine"));
}
