using Spectre.Console;
using DiffusionLab.Plotting;
using DiffusionLab.Sde;

namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab sde plot</c>: the mean and std of each SDE's perturbation kernel, and its forward marginal at T against the prior.</summary>
public static class SdeCommand
{
    public static Command Build(TextWriter output)
    {
        var sde = new Command("sde", "Score-based SDEs (OU, VP, sub-VP, VE).");
        var common = new CommonOptions("out/sde");
        var names = new Option<string>("--sdes") { Description = "Comma-separated: ou, vp, subvp, ve.", DefaultValueFactory = _ => "ou,vp,subvp,ve" };
        var dataset = new Option<string>("--dataset", "-d") { Description = "Data whose forward marginal at T is compared with the prior.", DefaultValueFactory = _ => "swiss-roll" };
        var plot = new Command("plot", "Plot α(t) (mean coefficient) and σ(t) (std) of x_t | x_0 for each SDE, and histograms of the forward marginal at T against the prior.");
        plot.Options.Add(names);
        plot.Options.Add(dataset);
        common.AddTo(plot);
        plot.SetAction(parse =>
        {
            var (seed, _, outDir) = common.Apply(parse);
            var sdes = parse.GetValue(names)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(SdeFactory.Create).ToList();
            var files = SdePlots.Write(sdes, parse.GetValue(dataset)!, seed, outDir);
            var console = CommonOptions.ConsoleFor(output);
            foreach (var f in files) console.WriteLine($"wrote {f}");
            return 0;
        });
        sde.Subcommands.Add(plot);
        return sde;
    }
}
