using System.Text.Json;
using Spectre.Console;
using DiffusionLab.Models;
using DiffusionLab.Plotting;
using DiffusionLab.Studies;
using DiffusionLab.Runs;
using DiffusionLab.Training;

namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab toy …</c>: the 2-D diffusion lab (the DDIM/CFG and score-SDE assignments).</summary>
public static class ToyCommand
{
    public static Command Build(TextWriter output)
    {
        var toy = new Command("toy", "2-D diffusion lab on point clouds: datasets, training, sampling and Chamfer/EMD evaluation.");
        toy.Subcommands.Add(BuildData(output));
        toy.Subcommands.Add(BuildTrain(output));
        toy.Subcommands.Add(BuildSample(output));
        toy.Subcommands.Add(BuildEval(output));
        toy.Subcommands.Add(BuildStudy(output));
        return toy;
    }

    private static Command BuildTrain(TextWriter output)
    {
        var common = new CommonOptions("runs/toy");
        var dataset = new Option<string>("--dataset", "-d") { Description = $"One of: {string.Join(", ", ToyDatasets.Names)}.", DefaultValueFactory = _ => "swiss-roll" };
        var sde = new Option<string?>("--sde") { Description = "Train a continuous-time score model with this SDE: vp, subvp, ve or ou." };
        var bridgeFrom = new Option<string?>("--bridge-from") { Description = $"Train a Schrödinger bridge from this dataset to --dataset instead of a diffusion model ({string.Join(", ", ToyDatasets.Names)})." };
        var sigma = new Option<double>("--sigma") { Description = "σ of the bridge's reference Brownian motion σW (--bridge-from): large σ pairs the two ends almost at random, small σ approaches optimal transport.", DefaultValueFactory = _ => 1.0 };
        var ddpm = new Option<bool>("--ddpm") { Description = "Train a discrete DDPM (the default when --sde is not given)." };
        var loss = new Option<string>("--loss") { Description = "Score-matching loss for --sde: dsm, ism or ssm.", DefaultValueFactory = _ => "dsm" };
        var prediction = new Option<string>("--prediction") { Description = "Network output: eps, x0, v or score.", DefaultValueFactory = _ => "eps" };
        var schedule = new Option<string>("--schedule") { Description = "Noise schedule for --ddpm (see 'difflab schedule --help').", DefaultValueFactory = _ => "linear" };
        var diffusionSteps = new Option<int>("--diffusion-steps") { Description = "Number of diffusion steps T for --ddpm.", DefaultValueFactory = _ => 1000 };
        var network = new Option<string>("--network") { Description = "mlp (residual MLP) or timelinear (the course assignments' TimeLinear MLP).", DefaultValueFactory = _ => "mlp" };
        var width = new Option<int>("--width") { Description = "Hidden width.", DefaultValueFactory = _ => 128 };
        var depth = new Option<int>("--depth") { Description = "Residual blocks (mlp) or hidden layers (timelinear).", DefaultValueFactory = _ => 4 };
        var steps = new Option<int>("--steps") { Description = "Training steps.", DefaultValueFactory = _ => 10_000 };
        var batch = new Option<int?>("--batch-size") { Description = "Batch size (default 1024; 256 for a bridge, whose every step solves a batch × batch transport problem)." };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (Adam).", DefaultValueFactory = _ => 1e-3 };
        var lrSchedule = new Option<string>("--lr-schedule") { Description = "constant or cosine.", DefaultValueFactory = _ => "cosine" };
        var warmup = new Option<int>("--warmup") { Description = "Linear warm-up steps.", DefaultValueFactory = _ => 200 };
        var clip = new Option<double>("--grad-clip") { Description = "Gradient-norm clip (0 = off).", DefaultValueFactory = _ => 1.0 };
        var ema = new Option<double>("--ema") { Description = "EMA decay of the sampling weights (0 = off).", DefaultValueFactory = _ => 0.999 };
        var emaWarmup = new Option<bool>("--ema-warmup") { Description = "Ramp the EMA decay as min(d, (1 + n)/(10 + n)) (diffusers' EMAModel), so short runs are not dominated by the initial weights." };
        var dataSize = new Option<int>("--data-size") { Description = "Size of the fixed training set.", DefaultValueFactory = _ => 100_000 };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its checkpoint (same configuration)." };
        var cmd = new Command("train", "Train a 2-D diffusion model (DDPM or score SDE) or a Schrödinger bridge between two datasets into a run folder: config.json, checkpoint.bin, loss.csv, loss.png.");
        foreach (var o in new Option[] { dataset, sde, bridgeFrom, sigma, ddpm, loss, prediction, schedule, diffusionSteps, network, width, depth, steps, batch, lr, lrSchedule, warmup, clip, ema, emaWarmup, dataSize, resume })
            cmd.Options.Add(o);
        common.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var (seed, device, outDir) = common.Apply(parse);
            var sdeName = parse.GetValue(sde);
            var source = parse.GetValue(bridgeFrom);
            if (new[] { sdeName is not null, parse.GetValue(ddpm), source is not null }.Count(b => b) > 1)
                throw new DiffusionLabException("choose one of --ddpm, --sde and --bridge-from");
            int w = parse.GetValue(width), d = parse.GetValue(depth);
            var config = new ToyRunConfig
            {
                Dataset = parse.GetValue(dataset)!,
                DataSize = parse.GetValue(dataSize),
                Process = source is not null ? "bridge" : sdeName is null ? "ddpm" : "sde",
                Source = source ?? "gaussian",
                BridgeSigma = parse.GetValue(sigma),
                Sde = sdeName ?? "vp",
                Loss = parse.GetValue(loss)!,
                Prediction = parse.GetValue(prediction)!,
                Schedule = parse.GetValue(schedule)!,
                DiffusionSteps = parse.GetValue(diffusionSteps),
                Network = parse.GetValue(network)!,
                Mlp = new ToyMlpConfig(Width: w, Depth: d),
                TimeLinear = new TimeLinearMlpConfig(Hidden: Enumerable.Repeat(w, Math.Max(d, 1)).ToArray()),
                BatchSize = parse.GetValue(batch) ?? (source is null ? 1024 : 256),
                Training = new TrainingOptions
                {
                    Steps = parse.GetValue(steps), LearningRate = parse.GetValue(lr), LrSchedule = parse.GetValue(lrSchedule)!,
                    WarmupSteps = parse.GetValue(warmup), GradClip = parse.GetValue(clip), EmaDecay = parse.GetValue(ema), EmaWarmup = parse.GetValue(emaWarmup), Seed = seed,
                    LogEvery = 50, CheckpointEvery = 1000,
                },
            };
            ToyDatasets.Sample(config.Dataset, 1, 0).Dispose(); // unknown dataset → clear error before any work (ToyRun checks a bridge's source)
            var console = CommonOptions.ConsoleFor(output);
            if (Trainer.InitialWeightInEma(config.Training) is double initial and > 0.01)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"note: with --ema {config.Training.EmaDecay} over {config.Training.Steps} steps, {initial:P0} of the EMA weights that sampling uses are still the random initial ones (d^steps); train longer, add --ema-warmup, or lower --ema"));
            using var run = ToyRun.Create(config, device);
            var clock = Stopwatch.StartNew();
            IReadOnlyList<LossPoint> history = [];
            var progress = new ProgressReporter(output, "training");
            if (parse.GetValue(resume)) progress.Resumed();
            try
            {
                double lastLoss = double.NaN;
                history = run.Train(outDir, parse.GetValue(resume), e => lastLoss = e.Loss,
                    step => progress.Report(step, config.Training.Steps, double.IsNaN(lastLoss) ? null : string.Create(CultureInfo.InvariantCulture, $"loss {lastLoss:F4}")));
            }
            finally { progress.Done(); }
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"trained {config.Training.Steps} steps in {clock.Elapsed.TotalSeconds:F1} s; final loss {history[^1].Loss:F4}; torch threads {TorchSharp.torch.get_num_threads()}"));
            console.WriteLine($"wrote {Path.Combine(outDir, ToyRun.ConfigFile)}, {Path.Combine(outDir, Trainer.CheckpointFile)}, {Path.Combine(outDir, "loss.png")}");
            return 0;
        });
        return cmd;
    }

    private static Command BuildSample(TextWriter output)
    {
        var common = new CommonOptions("out/toy-samples.csv");
        common.Out.Description = "Output CSV of samples (x,y); a scatter plot is written beside it (.png).";
        var run = new Option<string>("--run") { Description = "Run folder written by 'difflab toy train'.", Required = true };
        var sampler = new Option<string?>("--sampler") { Description = $"{string.Join(", ", ToyRun.DiscreteSamplers)} for DDPM runs (default ddim); {string.Join(", ", ToyRun.SdeSamplers)} for SDE runs (default em); {string.Join(", ", ToyRun.BridgeSamplers)} for bridges (default bridge-sde)." };
        var backward = new Option<bool>("--backward") { Description = "Run a Schrödinger bridge backwards: from the target dataset to its source." };
        var paths = new Option<bool>("--paths") { Description = "Also draw where 64 points travel, from start to end (.paths.png beside the CSV)." };
        var steps = new Option<int>("--steps") { Description = "Sampling steps (DDPM: all T; RK45: a cap on its adaptive steps).", DefaultValueFactory = _ => 50 };
        var n = new Option<int>("--n") { Description = "Number of samples.", DefaultValueFactory = _ => 2048 };
        var eta = new Option<double>("--eta") { Description = "DDIM η in [0, 1].", DefaultValueFactory = _ => 0.0 };
        var snr = new Option<double>("--snr") { Description = "Langevin corrector signal-to-noise ratio (pc).", DefaultValueFactory = _ => 0.16 };
        var tol = new Option<double>("--tolerance") { Description = "RK45 rtol = atol.", DefaultValueFactory = _ => 1e-5 };
        var gif = new Option<bool>("--gif") { Description = "Also write the trajectory from noise to data as a GIF." };
        var cmd = new Command("sample", "Sample a trained 2-D run with a chosen sampler; prints the number of network evaluations and the time.");
        foreach (var o in new Option[] { run, sampler, backward, steps, n, eta, snr, tol, gif, paths }) cmd.Options.Add(o);
        common.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var seed = parse.GetValue(common.Seed);
            var device = Devices.Resolve(parse.GetValue(common.Device)!);
            var outCsv = parse.GetValue(common.Out)!;
            using var model = ToyRun.Load(parse.GetValue(run)!, device);
            var samplerName = parse.GetValue(sampler) ?? model.Config.Process switch { "ddpm" => "ddim", "sde" => "em", _ => "bridge-sde" };
            bool back = parse.GetValue(backward);
            bool keepFrames = parse.GetValue(gif) || parse.GetValue(paths);
            var frames = keepFrames ? new List<TorchSharp.torch.Tensor>() : null;
            int total = parse.GetValue(steps);
            // every point is sampled in one batch: the network's widest layers for each, plus every frame of a GIF
            int points = parse.GetValue(n), width = Math.Max(model.Config.Mlp.Width, model.Config.TimeLinear.HiddenWidths.Append(model.Config.TimeLinear.FrequencyDim).Max());
            ResourceCheck.EnsureMemory((double)points * sizeof(float) * (16 + 2.0 * width * (model.Config.Mlp.Depth + 2) + (frames is null ? 0 : 2.0 * (total + 1))),
                $"sampling {points:N0} points in one batch", "lower --n");
            ResourceCheck.EnsureDisk(outCsv, points * 30.0, $"writing {points:N0} points", "lower --n");
            var clock = Stopwatch.StartNew();
            var progress = new ProgressReporter(output, $"sampling {parse.GetValue(n)} points");
            Samplers.SampleResult result;
            TorchSharp.torch.Tensor? startPoints = null;
            try
            {
                result = model.Sample(samplerName, total, parse.GetValue(n), seed,
                    new ToySamplerOptions { Eta = parse.GetValue(eta), Snr = parse.GetValue(snr), Tolerance = parse.GetValue(tol), Backward = back },
                    (i, x) =>
                    {
                        if (i == 0 && model.Bridge is not null) startPoints = x.detach().cpu().clone().DetachFromDisposeScope(); // for the transport cost
                        frames?.Add(x.detach().cpu().clone().DetachFromDisposeScope());
                        progress.Report(i, total);
                    });
            }
            finally { progress.Done(); }
            double seconds = clock.Elapsed.TotalSeconds;
            using var samples = result.Samples;
            PointCsv.Write(samples, outCsv);
            var png = Path.ChangeExtension(outCsv, ".png");
            var reference = model.SampleDataset(back);
            using var data = ToyDatasets.Sample(reference, samples.shape[0] <= 5000 ? (int)samples.shape[0] : 5000, ToyEvaluation.DefaultReferenceSeed);
            var title = model.Bridge is null ? $"{samplerName}, {result.FunctionEvaluations} NFE"
                : $"{(back ? $"{model.Config.Dataset} → {model.Config.Source}" : $"{model.Config.Source} → {model.Config.Dataset}")}, {samplerName}, {result.FunctionEvaluations} NFE";
            PointPlots.SaveScatter(png, title, data, samples);
            var console = CommonOptions.ConsoleFor(output);
            console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{samples.shape[0]} samples, {result.FunctionEvaluations} network evaluations, {seconds:F2} s"));
            if (startPoints is not null)
            {
                // the transport cost the bridge pays: it falls toward the squared Wasserstein-2 distance as σ → 0
                using var cost = (samples.cpu() - startPoints).square().sum(1).mean();
                console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mean squared displacement E|x_end − x_start|² = {cost.item<float>():F4}"));
            }
            startPoints?.Dispose();
            console.WriteLine($"wrote {outCsv}");
            console.WriteLine($"wrote {png}");
            if (frames is not null)
            {
                if (parse.GetValue(gif))
                {
                    var gifPath = Path.ChangeExtension(outCsv, ".gif");
                    Plotting.PointGif.Write(gifPath, frames, data);
                    console.WriteLine($"wrote {gifPath}");
                }
                if (parse.GetValue(paths))
                {
                    var pathsPng = Path.ChangeExtension(outCsv, ".paths.png");
                    PointPlots.SavePaths(pathsPng, title, data, frames);
                    console.WriteLine($"wrote {pathsPng}");
                }
                foreach (var f in frames) f.Dispose();
            }
            return 0;
        });
        return cmd;
    }

    private static Command BuildEval(TextWriter output)
    {
        var samplesOption = new Option<string>("--samples") { Description = "CSV of generated points (x,y).", Required = true };
        var dataset = new Option<string>("--dataset", "-d") { Description = "Dataset the samples should match.", DefaultValueFactory = _ => "swiss-roll" };
        var protocol = new Option<string>("--protocol") { Description = "sum2048 (DDIM/CFG assignment) or group100 (score-SDE assignment).", DefaultValueFactory = _ => "sum2048" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object {\"chamfer\":…, \"emd\":…, \"n\":…}." };
        var seed = new Option<long>("--seed") { Description = "Seed of the reference draw of the dataset.", DefaultValueFactory = _ => ToyEvaluation.DefaultReferenceSeed };
        var cmd = new Command("eval", "Chamfer distance and EMD of samples against a fresh draw of the dataset, by a named protocol.");
        foreach (var o in new Option[] { samplesOption, dataset, protocol, json, seed }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            var p = parse.GetValue(protocol)!;
            ToyEvaluation.RequiredPoints(p);
            using var samples = PointCsv.Read(parse.GetValue(samplesOption)!);
            var score = ToyEvaluation.Evaluate(samples, parse.GetValue(dataset)!, p, parse.GetValue(seed));
            if (parse.GetValue(json))
                output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["chamfer"] = score.Chamfer, ["emd"] = score.Emd, ["n"] = score.N, ["protocol"] = score.Protocol }));
            else
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{score.Protocol}: chamfer {score.Chamfer:G6}, emd {score.Emd:G6}, n {score.N}"));
            return 0;
        });
        return cmd;
    }

    private static Command BuildStudy(TextWriter output)
    {
        var common = new CommonOptions("out/toy-study");
        var run = new Option<string>("--run") { Description = "DDPM run folder written by 'difflab toy train --ddpm'.", Required = true };
        var samplers = new Option<string>("--samplers") { Description = "Samplers to compare.", DefaultValueFactory = _ => string.Join(",", ToyRun.DiscreteSamplers) };
        var budgets = new Option<string>("--nfe-list") { Description = "Budgets of network evaluations per sample (Heun and DPM-Solver++(2S) get ⌈(k+1)/2⌉ steps).", DefaultValueFactory = _ => "5,10,20,50,100,300,1000" };
        var protocol = new Option<string>("--protocol") { Description = "sum2048 (DDIM/CFG assignment) or group100 (score-SDE assignment).", DefaultValueFactory = _ => "sum2048" };
        var cmd = new Command("study", "Quality (Chamfer, EMD) against network evaluations for every discrete sampler: study.csv and chamfer-vs-nfe.png.");
        foreach (var o in new Option[] { run, samplers, budgets, protocol }) cmd.Options.Add(o);
        common.AddTo(cmd);
        cmd.SetAction(parse =>
        {
            var (seed, device, outDir) = common.Apply(parse);
            using var model = ToyRun.Load(parse.GetValue(run)!, device);
            var names = Samplers.Discrete.DiscreteSamplers.ParseNames(parse.GetValue(samplers)!, "--samplers");
            var list = CommonOptions.ParseInts(parse.GetValue(budgets)!, "--nfe-list");
            var p = parse.GetValue(protocol)!;
            output.WriteLine("sampler | budget | steps | NFE | Chamfer | EMD | s");
            var rows = ToySamplerStudy.Run(model, names, list, p, seed, r => output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Sampler} | {r.Budget} | {r.Steps} | {r.Nfe} | {r.Chamfer:G4} | {r.Emd:G4} | {r.Seconds:F2}")));
            ToySamplerStudy.Write(rows, outDir, $"{model.Config.Dataset}: Chamfer ({p}) against network evaluations");
            output.WriteLine($"wrote {outDir}/study.csv and {outDir}/chamfer-vs-nfe.png");
            return 0;
        });
        return cmd;
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
