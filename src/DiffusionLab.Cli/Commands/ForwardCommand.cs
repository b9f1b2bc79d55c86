using DiffusionLab.Schedules;
using DiffusionLab.Studies;
using Spectre.Console;

namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab forward</c>: how long does each schedule keep an image structured?</summary>
public static class ForwardCommand
{
    private static readonly Option<string> SchedulesOption = new("--schedules", "-s")
    {
        Description = "Comma-separated schedules to compare (see 'difflab schedule --help').",
        DefaultValueFactory = _ => "linear,cosine",
    };
    private static readonly Option<string?> ImageOption = new("--image", "-i") { Description = "Input image (PNG/JPEG, any size); default: the built-in demo picture." };
    private static readonly Option<int> SizeOption = new("--size") { Description = "The image is centre-cropped and resized to SIZE×SIZE pixels.", DefaultValueFactory = _ => 64 };
    private static readonly Option<string?> ShowStepsOption = new("--show-steps") { Description = "Comma-separated steps for the strip and histograms; default 0,5%,10%,20%,30%,40%,50%,70%,100% of T." };
    private static readonly Option<int> PatchOption = new("--patch") { Description = "Patch side for the distance to N(0, I).", DefaultValueFactory = _ => 4 };
    private static readonly Option<int> ProjectionsOption = new("--projections") { Description = "Random directions for the sliced Wasserstein distance.", DefaultValueFactory = _ => 64 };
    private static readonly Option<int> EvalPointsOption = new("--eval-points") { Description = "Steps at which x_t is measured, evenly spaced (counts are interpolated between them).", DefaultValueFactory = _ => 200 };
    private static readonly Option<double> CorrThresholdOption = new("--corr-threshold") { Description = "x_t is 'recognisable' while corr(x_t, x_0) >= this.", DefaultValueFactory = _ => 0.5 };
    private static readonly Option<double> StructureThresholdOption = new("--structure-threshold") { Description = "x_t is 'structured' while its normalised patch distance to N(0,I) >= this.", DefaultValueFactory = _ => 0.1 };

    public static Command Build(TextWriter output)
    {
        var common = new CommonOptions("out/forward");
        var cmd = new Command("forward", "Noise an image with each schedule and measure how long it stays structured: strip of x_t, histograms against N(0,1), structure curves and a report.");
        foreach (var o in new Option[] { SchedulesOption, ScheduleCommand.StepsOption, ScheduleCommand.ZeroTerminalSnrOption, ImageOption, SizeOption,
                     ShowStepsOption, PatchOption, ProjectionsOption, EvalPointsOption, CorrThresholdOption, StructureThresholdOption })
            cmd.Options.Add(o);
        common.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var (seed, device, outDir) = common.Apply(parse);
            var schedules = ScheduleCommand.ReadSchedules(parse, SchedulesOption);
            int size = parse.GetValue(SizeOption);
            if (size < 8 || size > 1024) throw new DiffusionLabException($"--size must be between 8 and 1024, got {size}");
            var options = new ForwardAnalysisOptions
            {
                PatchSize = parse.GetValue(PatchOption),
                Projections = parse.GetValue(ProjectionsOption),
                CorrelationThreshold = parse.GetValue(CorrThresholdOption),
                StructureThreshold = parse.GetValue(StructureThresholdOption),
                Seed = seed,
                EvaluationPoints = parse.GetValue(EvalPointsOption),
            };
            if (options.PatchSize < 1 || options.PatchSize > size) throw new DiffusionLabException($"--patch must be between 1 and --size ({size}), got {options.PatchSize}");
            if (options.Projections < 1) throw new DiffusionLabException($"--projections must be positive, got {options.Projections}");
            var shown = ParseSteps(parse.GetValue(ShowStepsOption), schedules[0].Steps);
            using var x0 = LoadImage(parse.GetValue(ImageOption), size);
            Run(x0.to(device), schedules, shown, options, outDir, CommonOptions.ConsoleFor(output));
            return 0;
        });
        return cmd;
    }

    public static torch.Tensor LoadImage(string? path, int size)
    {
        if (path is null)
        {
            using var demo = DemoImage.Create(128);
            using var square = ImageTensor.CenterCropResize(demo, size);
            return ImageTensor.FromBitmap(square);
        }
        return ImageTensor.LoadSquare(path, size);
    }

    private static IReadOnlyList<int> ParseSteps(string? text, int steps)
    {
        if (string.IsNullOrWhiteSpace(text)) return ForwardStudy.DefaultShownSteps(steps);
        return CommonOptions.ParseInts(text, "--show-steps");
    }

    public static void Run(torch.Tensor x0, IReadOnlyList<NoiseSchedule> schedules, IReadOnlyList<int> shown,
        ForwardAnalysisOptions options, string outDir, IAnsiConsole console)
    {
        IReadOnlyList<ScheduleStructure> results = [];
        int total = schedules.Sum(s => ForwardAnalysis.EvaluationSteps(s.Steps, options.EvaluationPoints).Count);
        if (console.Profile.Capabilities.Interactive)
            console.Progress().AutoClear(true).Start(ctx =>
            {
                var task = ctx.AddTask("forward process", maxValue: total);
                results = ForwardStudy.Run(x0, schedules, shown, options, outDir, () => task.Increment(1));
            });
        else
            results = ForwardStudy.Run(x0, schedules, shown, options, outDir);

        var table = new Table().AddColumns("schedule", "T", "steps structured", "steps recognisable", "steps with SNR ≥ 1", "pure-noise steps");
        foreach (var r in results)
            table.AddRow(Markup.Escape(r.Name), r.Schedule.Steps.ToString(CultureInfo.InvariantCulture),
                Pct(r.StepsStructured, r.Schedule.Steps), Pct(r.StepsRecognisable, r.Schedule.Steps),
                Math.Round(r.HalfSignalFraction * r.Schedule.Steps).ToString(CultureInfo.InvariantCulture),
                ForwardStudy.NoiseOnlySteps(r.Schedule).ToString(CultureInfo.InvariantCulture));
        console.Write(table);
        console.WriteLine(ForwardStudy.Verdict(results));
        foreach (var f in new[] { "x0.png", "strip.png", "histograms.png", "structure.png", "structure.csv", "report.md" })
            console.WriteLine($"wrote {Path.Combine(outDir, f)}");
    }

    private static string Pct(int n, int of) => string.Create(CultureInfo.InvariantCulture, $"{n} ({100.0 * n / of:F0}%)");
}
