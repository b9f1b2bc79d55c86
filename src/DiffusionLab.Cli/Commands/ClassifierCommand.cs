using DiffusionLab.Studies;

namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab classifier</c>.</summary>
public static class ClassifierCommand
{
    public static Command Build(TextWriter output)
    {
        var classifier = new Command("classifier", "Domain classifiers: the judge of class-conditional samples and the feature network of FID/KID/precision/recall.");
        var common = new CommonOptions("runs/classifier");
        common.Out.Description = "Folder to write the classifier to: classifier.json, weights.bin, checkpoint.bin (for --resume), loss.csv, loss.png, training.json.";
        var dataset = new Option<string>("--dataset", "-d") { Description = "mnist, fashion-mnist, emoji, emoji64, idx:DIR or folder:PATH.", DefaultValueFactory = _ => "mnist" };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => 5 };
        var batch = new Option<int>("--batch-size") { Description = "Batch size.", DefaultValueFactory = _ => 128 };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 1e-3 };
        var size = new Option<int>("--image-size") { Description = "Folders: square image size.", DefaultValueFactory = _ => 32 };
        var kind = new Option<string?>("--kind") { Description = "cnn (default for ≤ 32 px grayscale) or resnet (default for RGB)." };
        var noisy = new Option<bool>("--noisy") { Description = "Train a noise-aware classifier p(y | x_t, t) on the schedule of --model, for classifier guidance." };
        var model = new Option<string?>("--model") { Description = "--noisy: the model (or run) whose schedule to train on; default: the shipped models/mnist-cs180-class." };
        var resume = new Option<bool>("--resume") { Description = "Continue a stopped training from OUT/checkpoint.bin (same options; a larger --epochs extends it)." };
        var balanced = new Option<bool>("--balanced") { Description = "Weight each class's loss by N / (K · N_c), so that small classes count as much as large ones (for data with unequal classes, such as emoji)." };
        var train = new Command("train", "Train a domain classifier and report its held-out accuracy.");
        foreach (var o in new Option[] { dataset, epochs, batch, lr, size, kind, noisy, model, resume, balanced }) train.Options.Add(o);
        common.AddTo(train);
        train.SetAction(parse =>
        {
            var (seed, device, outDir) = common.Apply(parse);
            var spec = parse.GetValue(dataset)!;
            var trainSet = ImageDatasets.Load(spec, "train", parse.GetValue(size));
            var heldout = ImageDatasets.Load(spec, "heldout", parse.GetValue(size));
            string? schedule = null;
            int steps = 0;
            if (parse.GetValue(noisy))
            {
                var config = Runs.ImageRun.ReadConfig(parse.GetValue(model) ?? CommonOptions.ShippedModel("mnist-cs180-class", "--model"));
                (schedule, steps) = (config.Schedule, config.DiffusionSteps);
                output.WriteLine($"noise-aware: x_t on the {schedule} schedule with {steps} steps");
            }
            else if (parse.GetValue(model) is not null) throw new DiffusionLabException("--model is only used with --noisy");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var progress = new ProgressReporter(output, "training");
            if (parse.GetValue(resume)) progress.Resumed();
            using var signals = new StopSignals(output);
            using var c = Classifier.Train(trainSet, heldout, spec, outDir, parse.GetValue(epochs), parse.GetValue(batch), parse.GetValue(lr), seed,
                parse.GetValue(kind), device, (e, loss, acc) =>
                {
                    progress.Done();
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {e}: loss {loss:F4}, held-out accuracy {acc:P2}"));
                },
                schedule, steps, parse.GetValue(resume), (done, total) => progress.Report(done, total), () => signals.Requested, balanced: parse.GetValue(balanced));
            progress.Done();
            if (signals.Requested && c.Info.HeldoutCount == 0) // stopped before the end: no held-out measurement yet
            {
                output.WriteLine($"stopped by {signals.Name}: {outDir}/checkpoint.bin holds the run; the same command with --resume continues exactly");
                return signals.ExitCode;
            }
            if (c.Info.NoisyHeldoutAccuracy is { } noisyAcc)
                output.WriteLine("held-out accuracy on x_t at t = 0, T/4, T/2, 3T/4, T: " + string.Join(", ", noisyAcc.Select(a => a.ToString("P1", CultureInfo.InvariantCulture))));
            if (c.Info.HeldoutClassAccuracy is { } perClass)
                output.WriteLine("held-out accuracy per class: " + string.Join(", ", perClass.Select((a, i) => $"{c.Info.ClassNames[i]} {(a is double v ? v.ToString("P1", CultureInfo.InvariantCulture) : "none")}"))
                    + string.Create(CultureInfo.InvariantCulture, $"; balanced (their mean) {c.Info.HeldoutBalancedAccuracy:P2}"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"held-out accuracy {c.Info.HeldoutAccuracy:P2} on {c.Info.HeldoutCount} images ({clock.Elapsed.TotalSeconds:F0} s); wrote {outDir}/classifier.json, weights.bin, checkpoint.bin, loss.csv, loss.png"));
            return 0;
        });
        classifier.Subcommands.Add(train);
        return classifier;
    }
}
