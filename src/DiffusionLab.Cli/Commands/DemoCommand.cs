using DiffusionLab.Studies;

namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab demo</c>: the README's main job — the schedule comparison and the forward-process study on defaults.</summary>
public static class DemoCommand
{
    public static Command Build(TextWriter output)
    {
        var common = new CommonOptions("out/demo");
        var cmd = new Command("demo", "Run the main job on defaults: 'schedule' for all named schedules, then 'forward' for linear vs cosine on the demo image.");
        common.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var (seed, _, outDir) = common.Apply(parse);
            var console = CommonOptions.ConsoleFor(output);
            var all = Schedules.NoiseSchedules.Names.Select(n => Schedules.NoiseSchedules.Create(n, 1000)).ToList();
            ScheduleCommand.Run(all, Path.Combine(outDir, "schedule"), console);
            using var x0 = ForwardCommand.LoadImage(null, 64);
            var compared = all.Where(s => s.Name is "linear" or "cosine").ToList();
            ForwardCommand.Run(x0, compared, ForwardStudy.DefaultShownSteps(1000), new ForwardAnalysisOptions { Seed = seed },
                Path.Combine(outDir, "forward"), console);
            return 0;
        });
        return cmd;
    }
}
