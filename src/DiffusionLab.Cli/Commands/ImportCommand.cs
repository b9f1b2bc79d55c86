namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab import</c>.</summary>
public static class ImportCommand
{
    public static Command Build(TextWriter output)
    {
        var config = new Option<string>("--config") { Description = "The network the weights belong to: a model or run folder, or its config.json.", Required = true };
        var weights = new Option<string>("--weights") { Description = "Weights trained elsewhere: .safetensors, or a PyTorch .pt/.pth state_dict (torch.save(model.state_dict())) with this network's parameter names.", Required = true };
        var outDir = new Option<string>("--out", "-o") { Description = "Model folder to write (config.json + the weights).", Required = true };
        var half = new Option<bool>("--half") { Description = "Store the weights as float16 (half the size)." };
        var format = ExportCommand.Format();
        var cmd = new Command("import", "Make a model folder from weights trained elsewhere (e.g. in PyTorch), checked name by name against the network the config describes; then sample, edit and evaluate it like any model.");
        foreach (var o in new Option[] { config, weights, outDir, half, format }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            ImageRun.Import(parse.GetValue(config)!, parse.GetValue(weights)!, parse.GetValue(outDir)!, parse.GetValue(format)!, parse.GetValue(half));
            output.WriteLine($"wrote {parse.GetValue(outDir)}: {parse.GetValue(weights)} checked against the network of {parse.GetValue(config)}");
            return 0;
        });
        return cmd;
    }
}
