using System.CommandLine;
using DiffusionLab.Data;
using DiffusionLab.Plotting;
using Spectre.Console;

namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab toy …</c>: the 2-D diffusion lab (seeds 001 and 003).</summary>
public static class ToyCommand
{
    public static Command Build(TextWriter output)
    {
        var toy = new Command("toy", "2-D diffusion lab on point clouds: datasets, training, sampling and Chamfer/EMD evaluation.");
        toy.Subcommands.Add(BuildData(output));
        return toy;
    }

    private static Command BuildData(TextWriter output)
    {
        var common = new CommonOptions("out/toy-data");
        var dataset = new Option<string>("--dataset", "-d") { Description = $"One of: {string.Join(", ", ToyDatasets.Names)}.", DefaultValueFactory = _ => "swiss-roll" };
        var n = new Option<int>("--n") { Description = "Number of points.", DefaultValueFactory = _ => 2048 };
        var cmd = new Command("data", "Sample a toy dataset: writes data.csv (x,y) and a scatter plot data.png.");
        cmd.Options.Add(dataset);
        cmd.Options.Add(n);
        common.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var (seed, _, outDir) = common.Apply(parse);
            var name = parse.GetValue(dataset)!;
            using var points = ToyDatasets.Sample(name, parse.GetValue(n), seed);
            var csv = Path.Combine(outDir, "data.csv");
            var png = Path.Combine(outDir, "data.png");
            PointCsv.Write(points, csv);
            PointPlots.SaveScatter(png, $"{name}, n = {points.shape[0]}", null, points);
            var console = CommonOptions.ConsoleFor(output);
            console.WriteLine($"wrote {csv}");
            console.WriteLine($"wrote {png}");
            return 0;
        });
        return cmd;
    }
}
