using DiffusionLab.Models;

namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab export</c>.</summary>
public static class ExportCommand
{
    public static Command Build(TextWriter output)
    {
        var run = new Option<string>("--run") { Description = "Trained run folder.", Required = true };
        var outDir = new Option<string>("--out", "-o") { Description = "Model folder to write (config.json + weights.bin).", Required = true };
        var half = new Option<bool>("--half") { Description = "Store the weights as float16 (half the size)." };
        var cmd = new Command("export", "Write a run's sampling (EMA) weights and config as a self-contained model folder, as shipped in models/.");
        cmd.Options.Add(run);
        cmd.Options.Add(outDir);
        cmd.Options.Add(half);
        cmd.SetAction(parse =>
        {
            using var m = ImageRun.Load(parse.GetValue(run)!);
            m.Export(parse.GetValue(outDir)!, parse.GetValue(half));
            output.WriteLine($"wrote {parse.GetValue(outDir)}/config.json and weights.bin");
            return 0;
        });
        return cmd;
    }
}
