using DiffusionLab.Models;

namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab export</c>.</summary>
public static class ExportCommand
{
    internal static Option<string> Format() => new("--format")
    {
        Description = "Weights format: difflab (weights.bin), safetensors (model.safetensors) or pt (model.pt, a PyTorch state_dict: torch.load + load_state_dict on the module of the same fields, e.g. benchmarks/peers/torch_bench.py's DdpmUNet).",
        DefaultValueFactory = _ => "difflab",
    };

    public static Command Build(TextWriter output)
    {
        var run = new Option<string>("--run") { Description = "Trained run folder (or a model folder, to convert its weights).", Required = true };
        var outDir = new Option<string>("--out", "-o") { Description = "Model folder to write (config.json + the weights).", Required = true };
        var half = new Option<bool>("--half") { Description = "Store the weights as float16 (half the size)." };
        var format = Format();
        var cmd = new Command("export", "Write a run's sampling (EMA) weights and config as a self-contained model folder, as shipped in models/ — or for PyTorch (--format safetensors|pt).");
        foreach (var o in new Option[] { run, outDir, half, format }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            using var m = ImageRun.Load(parse.GetValue(run)!);
            var f = parse.GetValue(format)!;
            m.Export(parse.GetValue(outDir)!, parse.GetValue(half), f);
            output.WriteLine($"wrote {parse.GetValue(outDir)}/config.json and {(f == "difflab" ? ImageRun.WeightsFile : StateDictFile.FileName(f))}");
            return 0;
        });
        return cmd;
    }
}
