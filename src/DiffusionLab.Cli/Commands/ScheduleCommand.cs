using DiffusionLab.Plotting;
using DiffusionLab.Schedules;
using Spectre.Console;

namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab schedule</c>: tabulate and plot noise schedules.</summary>
public static class ScheduleCommand
{
    public static readonly Option<string> SchedulesOption = new("--schedules", "-s")
    {
        Description = "Comma-separated schedules: linear, cosine, quadratic, sigmoid, sqrt, or beta=EXPR / alphabar=EXPR in t = step/T (e.g. \"alphabar=1-t^2\").",
        DefaultValueFactory = _ => "linear,cosine,quadratic,sigmoid,sqrt",
    };

    public static readonly Option<int> StepsOption = new("--steps", "-T")
    {
        Description = "Number of diffusion steps T.",
        DefaultValueFactory = _ => 1000,
    };

    public static readonly Option<bool> ZeroTerminalSnrOption = new("--zero-terminal-snr")
    {
        Description = "Rescale every schedule to zero terminal SNR (Lin et al. 2023).",
    };

    /// <summary>Parses --schedules/--steps/--zero-terminal-snr into schedules (shared with other verbs).</summary>
    public static IReadOnlyList<NoiseSchedule> ReadSchedules(ParseResult parse, Option<string> schedules)
    {
        int steps = parse.GetValue(StepsOption);
        if (steps < 1) throw new DiffusionLabException($"--steps must be at least 1, got {steps}"); // the library names T; the flag is ours
        bool ztsnr = parse.GetValue(ZeroTerminalSnrOption);
        return Schedules.NoiseSchedules.SplitSpecs(parse.GetValue(schedules)!).Select(s => Schedules.NoiseSchedules.Create(s, steps, ztsnr)).ToList();
    }

    public static Command Build(TextWriter output)
    {
        var common = new CommonOptions("out/schedule");
        var cmd = new Command("schedule", "Write schedule.csv (schedule,t,beta,alpha,alpha_bar,snr) and plots of beta, alpha_bar and log-SNR for several noise schedules.");
        cmd.Options.Add(SchedulesOption);
        cmd.Options.Add(StepsOption);
        cmd.Options.Add(ZeroTerminalSnrOption);
        common.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var (_, _, outDir) = common.Apply(parse);
            var schedules = ReadSchedules(parse, SchedulesOption);
            Run(schedules, outDir, CommonOptions.ConsoleFor(output));
            return 0;
        });
        return cmd;
    }

    public static void Run(IReadOnlyList<NoiseSchedule> schedules, string outDir, IAnsiConsole console)
    {
        var csv = Path.Combine(outDir, "schedule.csv");
        ScheduleCsv.Write(schedules, csv);
        var files = SchedulePlots.Write(schedules, outDir);

        var table = new Table().AddColumns("schedule", "T", "β_1", "β_T", "ᾱ_T", "log SNR_T", "steps with SNR ≥ 1");
        foreach (var s in schedules)
        {
            int half = Enumerable.Range(1, s.Steps).Count(t => s.AlphaBar(t) >= 0.5);
            table.AddRow(Markup.Escape(s.Name), s.Steps.ToString(CultureInfo.InvariantCulture), F(s.Beta(1)), F(s.Beta(s.Steps)),
                F(s.AlphaBar(s.Steps)), F(s.LogSnr(s.Steps)), half.ToString(CultureInfo.InvariantCulture));
        }
        console.Write(table);
        console.WriteLine($"wrote {csv}");
        foreach (var f in files) console.WriteLine($"wrote {f}");
    }

    private static string F(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
}
