using DiffusionLab.Models;

namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab denoise</c>.</summary>
public static class DenoiseCommand
{
    public static Command Build(TextWriter output)
    {
        var common = new CommonOptions("out/denoise");
        var run = new Option<string?>("--run") { Description = "A cs180-single run; without it only the noisy inputs are drawn (CS180 project 5 part B §1.2)." };
        var dataset = new Option<string>("--dataset", "-d") { Description = "Images to noise (default: the run's dataset, else mnist).", DefaultValueFactory = _ => "" };
        var split = new Option<string>("--split") { Description = "train or heldout (the out-of-distribution test uses held-out digits).", DefaultValueFactory = _ => "heldout" };
        var sigmas = new Option<string>("--sigmas") { Description = "Noise levels σ of z = x + σε.", DefaultValueFactory = _ => "0,0.2,0.4,0.6,0.8,1.0" };
        var n = new Option<int>("--n") { Description = "Images per row.", DefaultValueFactory = _ => 8 };
        var cmd = new Command("denoise", "Single-step denoising (CS180 project 5 part B §1): noisy examples over σ, and a trained denoiser's outputs on them.");
        foreach (var o in new Option[] { run, dataset, split, sigmas, n }) cmd.Options.Add(o);
        common.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var (seed, device, outDir) = common.Apply(parse);
            var levels = CommonOptions.ParseDoubles(parse.GetValue(sigmas)!, "--sigmas");
            foreach (var v in levels)
                if (!(v >= 0)) throw new DiffusionLabException($"--sigmas must be non-negative numbers, got '{v.ToString(CultureInfo.InvariantCulture)}'");
            using var m = parse.GetValue(run) is string r ? ImageRun.Load(r, device) : null;
            if (m is not null && !m.Config.IsSingleStep) throw new DiffusionLabException($"{parse.GetValue(run)} is a {m.Config.Model} run, not cs180-single");
            var spec = parse.GetValue(dataset) is { Length: > 0 } d ? d : m?.Config.Dataset ?? "mnist";
            var data = ImageDatasets.Load(spec, parse.GetValue(split)!, m?.Config.ImageSize ?? 64, m?.Config.Channels ?? 3);
            m?.CheckDataset(data);
            if (parse.GetValue(n) < 1) throw new DiffusionLabException("--n must be positive");
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            int count = Math.Min(parse.GetValue(n), data.Count);
            var x = data.Batch(Enumerable.Range(0, count).Select(i => (int)((long)i * data.Count / count)).ToArray(), device).Images; // spread over the classes
            var g = TensorOps.SeededGenerator(seed);
            var eps = torch.randn(x.shape, generator: g).to(device);
            var rows = new List<Tensor>();
            var names = new List<string>();
            foreach (var s in levels)
            {
                var z = x + s * eps;
                rows.Add(z);
                names.Add(string.Create(CultureInfo.InvariantCulture, $"σ = {s:0.##}"));
                if (m is not null)
                {
                    rows.Add(m.Network.call(z, torch.zeros(x.shape[0], device: device)));
                    names.Add("denoised");
                }
            }
            var png = Path.Combine(outDir, m is null ? "noisy.png" : "denoised.png");
            ImageGrid.SaveRows(png, rows, names);
            output.WriteLine($"wrote {png}");
            return 0;
        });
        return cmd;
    }
}
