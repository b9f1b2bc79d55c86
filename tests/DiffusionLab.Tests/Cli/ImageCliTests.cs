using DiffusionLab.Cli;
using DiffusionLab.Tests.Runs;
using SkiaSharp;

namespace DiffusionLab.Tests.Cli;

public class ImageCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static string Temp() => CliRunner.Temp("difflab-imgcli");

    /// <summary>Writes the bars dataset as standard IDX files (train and t10k) and returns the folder.</summary>
    private static string IdxBars()
    {
        var dir = Temp();
        var train = TinyData.Bars(64, 8, 4, seed: 1);
        var test = TinyData.Bars(16, 8, 4, seed: 2);
        foreach (var (prefix, ds) in new[] { ("train", train), ("t10k", test) })
        {
            var img = new MemoryStream();
            img.Write([0, 0, 8, 3]);
            foreach (var d in new[] { ds.Count, 8, 8 }) img.Write([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
            img.Write(ds.Pixels);
            File.WriteAllBytes(Path.Combine(dir, $"{prefix}-images-idx3-ubyte"), img.ToArray());
            var lab = new MemoryStream();
            lab.Write([0, 0, 8, 1, 0, 0, 0, (byte)ds.Count]);
            lab.Write(ds.Labels.Select(l => (byte)l).ToArray());
            File.WriteAllBytes(Path.Combine(dir, $"{prefix}-labels-idx1-ubyte"), lab.ToArray());
        }
        return dir;
    }

    private static readonly string[] TinyTrain = ["--epochs", "1", "--hidden", "4", "--batch-size", "16", "--diffusion-steps", "20", "--seed", "3"];

    [Fact]
    public void TrainSampleAndBadInputEndToEnd()
    {
        var data = IdxBars();
        var run = Temp();
        var (code, o, err) = Run(["train", "--dataset", "idx:" + data, "--model", "cs180-class", "--out", run, .. TinyTrain]);
        Assert.True(code == 0, err);
        Assert.Contains("epoch 1/1", o);
        foreach (var f in new[] { "config.json", "checkpoint.bin", "loss.csv", "loss.png", "samples/epoch-001.png" })
            Assert.True(File.Exists(Path.Combine(run, f)), f);

        var outDir = Temp();
        (code, o, err) = Run("sample", "--run", run, "--class", "2,3", "--guidance-scale", "3", "--n", "4", "--sampler", "ddim", "--steps", "5", "--gif", "--out", outDir);
        Assert.True(code == 0, err);
        Assert.Contains("10 network evaluations per image, cond+uncond batched", o);
        Assert.Equal(4, Directory.GetFiles(Path.Combine(outDir, "images"), "*.png").Length);
        Assert.True(File.Exists(Path.Combine(outDir, "images", "00003-class3.png")));
        using (var grid = SKBitmap.Decode(Path.Combine(outDir, "grid.png"))) Assert.True(grid.Width > 16);
        Assert.True(new FileInfo(Path.Combine(outDir, "trajectory.gif")).Length > 100);

        // bf16 mixed precision samples the same run (its images may differ slightly: the network computes in bfloat16)
        var mixed = Temp();
        (code, o, err) = Run("sample", "--run", run, "--class", "2,3", "--guidance-scale", "3", "--n", "4", "--sampler", "ddim", "--steps", "5", "--precision", "bf16", "--out", mixed);
        Assert.True(code == 0, err);
        Assert.True(File.Exists(Path.Combine(mixed, "grid.png")));
        // bf16 where it pays on this machine; elsewhere one line says why and the run is fp32 (Runtime/MixedPrecision.Resolve)
        if (DiffusionLab.Runtime.MixedPrecision.BFloat16Unavailable() is string why) Assert.Contains($"--precision bf16 declined: {why}", o);
        else Assert.Contains("bf16 mixed precision", o);

        // The same seed gives the same images; the w convention with w = 2 is γ = 3.
        var again = Temp();
        Assert.Equal(0, Run("sample", "--run", run, "--class", "2,3", "--guidance-w", "2", "--n", "4", "--sampler", "ddim", "--steps", "5", "--out", again).Code);
        Assert.Equal(File.ReadAllBytes(Path.Combine(outDir, "grid.png")), File.ReadAllBytes(Path.Combine(again, "grid.png")));

        // Bad input: one line on stderr, exit 1, nothing overwritten.
        var before = File.ReadAllBytes(Path.Combine(outDir, "grid.png"));
        (code, _, err) = Run("sample", "--run", run, "--class", "12", "--out", outDir); // IDX data has the 10 MNIST classes
        Assert.Equal(1, code);
        Assert.Contains("class 12 is out of range", err);
        Assert.Single(err.Trim().Split('\n'));
        var ckpt = Path.Combine(run, "checkpoint.bin");
        var bytes = File.ReadAllBytes(ckpt);
        File.WriteAllBytes(ckpt, bytes[..(bytes.Length / 3)]);
        (code, _, err) = Run("sample", "--run", run, "--out", outDir);
        Assert.Equal(1, code);
        Assert.Contains("corrupt", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(outDir, "grid.png")));
        // resuming with another image size is refused and the run is left alone
        (code, _, err) = Run(["train", "--dataset", "idx:" + data, "--model", "cs180-class", "--out", run, "--resume", .. TinyTrain.Select(a => a == "4" ? "8" : a)]); // --hidden 8
        Assert.Equal(1, code);
        Assert.Contains("different configuration", err);
        Assert.Equal(bytes.Length / 3, new FileInfo(ckpt).Length);
    }

    [Theory]
    [InlineData("no class sub-folders", "train", "--dataset", "folder:EMPTY")]
    [InlineData("unknown dataset", "train", "--dataset", "cifar")]
    [InlineData("unknown model", "train", "--model", "vit")]
    [InlineData("not a run or model folder", "sample", "--run", "EMPTY")]
    [InlineData("model folder not found", "sample", "--model", "/nonexistent/model")]
    [InlineData("--n must be positive", "sample", "--n", "0")]
    [InlineData("give --guidance-scale or --guidance-w", "sample", "--guidance-scale", "2", "--guidance-w", "1")]
    [InlineData("unknown --precision 'fp16'", "train", "--precision", "fp16")]
    [InlineData("unknown --precision 'half'", "sample", "--precision", "half")]
    public void BadInputGivesOneLine(string message, params string[] args)
    {
        var empty = Temp();
        var (code, _, err) = Run([.. args.Select(a => a.Replace("EMPTY", empty)), "--out", Temp()]);
        Assert.Equal(1, code);
        Assert.Contains(message, err);
        Assert.Single(err.Trim().Split('\n'));
    }

    /// <summary>The events of a TensorBoard event file: TFRecord framing (length, its CRC, the data, its CRC) around Event protobufs.</summary>
    private static List<Tensorboard.Event> ReadEvents(string file)
    {
        var bytes = File.ReadAllBytes(file);
        var events = new List<Tensorboard.Event>();
        for (int pos = 0; pos < bytes.Length;)
        {
            int n = (int)BitConverter.ToUInt64(bytes, pos);
            events.Add(Tensorboard.Event.Parser.ParseFrom(bytes, pos + 12, n));
            pos += 12 + n + 4;
        }
        return events;
    }

    [Fact]
    public void TrainingWritesATensorBoardLogThatReadsBack()
    {
        var data = IdxBars();
        var run = Temp();
        var (code, _, err) = Run(["train", "--dataset", "idx:" + data, "--model", "cs180-class", "--out", run, "--tensorboard", "--epochs", "2", "--hidden", "4", "--batch-size", "16", "--diffusion-steps", "20", "--seed", "3"]);
        Assert.True(code == 0, err);
        var files = Directory.GetFiles(Path.Combine(run, "tensorboard"));
        var values = files.SelectMany(ReadEvents).Where(e => e.Summary is not null)
            .SelectMany(e => e.Summary.Value.Select(v => (Step: e.Step, Value: v))).ToList();
        // 64 images in batches of 16: 4 steps an epoch, logged every 4, two epochs
        var loss = values.Where(v => v.Value.Tag == "train/loss").ToDictionary(v => v.Step, v => v.Value.SimpleValue);
        Assert.Equal([4L, 8L], loss.Keys.Order());
        // the same numbers as loss.csv, which the loss curve is drawn from
        foreach (var line in File.ReadAllLines(Path.Combine(run, "loss.csv")).Skip(1))
        {
            var parts = line.Split(',');
            Assert.Equal(double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), loss[long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture)], 5);
        }
        foreach (var tag in new[] { "train/learning_rate", "train/gradient_norm", "train/images_per_second" })
            Assert.All(values.Where(v => v.Value.Tag == tag).Select(v => v.Value.SimpleValue), x => Assert.True(float.IsFinite(x) && x > 0, $"{tag} = {x}"));
        Assert.Equal(2, values.Count(v => v.Value.Tag == "train/gradient_norm"));
        // every epoch: the grid as a PNG and the histogram of the epoch's logged losses
        var images = values.Where(v => v.Value.Tag == "samples").ToList();
        Assert.Equal([4L, 8L], images.Select(v => v.Step).Order());
        Assert.True(images.All(v => v.Value.Image.EncodedImageString.Span[..4].SequenceEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' })));
        var histograms = values.Where(v => v.Value.Tag == "train/loss_histogram").ToList();
        Assert.Equal(2, histograms.Count);
        Assert.All(histograms, h => Assert.Equal(1, h.Value.Histo.Num));
    }

    [Fact]
    public void FolderDatasetTrainsTheUNetFromTheCommandLine()
    {
        var folder = TinyData.RgbFolder(perClass: 10, size: 20);
        var run = Temp();
        var (code, o, err) = Run("train", "--dataset", "folder:" + folder, "--model", "unet", "--image-size", "8", "--ch", "8", "--ch-mult", "1,2",
            "--num-res-blocks", "1", "--attn", "4", "--epochs", "1", "--batch-size", "6", "--diffusion-steps", "20", "--out", run);
        Assert.True(code == 0, err);
        Assert.Contains("3×8×8, 2 classes", o);
        var outDir = Temp();
        (code, _, err) = Run("sample", "--run", run, "--class", "1", "--n", "2", "--sampler", "ddim", "--steps", "4", "--out", outDir);
        Assert.True(code == 0, err);
        using var img = SKBitmap.Decode(Path.Combine(outDir, "images", "00000-class1.png"));
        Assert.Equal((8, 8), (img.Width, img.Height));
        (code, _, err) = Run("data", "show", "folder:" + folder, "--image-size", "8", "--out", outDir);
        Assert.True(code == 0, err);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int SendSignal(int pid, int signal);

    [Fact]
    public async Task SigtermStopsATrainingAtTheNextStepWithACheckpointThatResumes()
    {
        if (!OperatingSystem.IsLinux()) return; // POSIX signals to a child process
        var data = IdxBars();
        var run = Temp();
        // far more steps than the test waits for: it must be the signal that ends the run
        string[] args = ["train", "--dataset", "idx:" + data, "--model", "cs180-class", "--epochs", "2000", "--hidden", "4", "--batch-size", "16",
            "--diffusion-steps", "20", "--grid-every", "0", "--lr-schedule", "constant", "--seed", "3", "--out", run]; // constant: the rate does not depend on the length, which the resume shortens
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "difflab.dll"), .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = new System.Text.StringBuilder();
        var started = new ManualResetEventSlim();
        p.OutputDataReceived += (_, e) => { if (e.Data is null) return; lock (stdout) stdout.AppendLine(e.Data); if (e.Data.StartsWith("cs180-class:")) started.Set(); };
        p.BeginOutputReadLine();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(started.Wait(TimeSpan.FromSeconds(60)), "the training did not start");
        Thread.Sleep(1500); // some steps in
        Assert.Equal(0, SendSignal(p.Id, 15));
        Assert.True(p.WaitForExit(60_000), "SIGTERM did not stop the training");
        await p.WaitForExitAsync();
        string o, err = await stderr;
        lock (stdout) o = stdout.ToString();
        Assert.True(p.ExitCode == 143, $"exit code {p.ExitCode}: {o} {err}");
        Assert.Contains("SIGTERM: stopping after this step and writing a checkpoint", o);
        var stopped = System.Text.RegularExpressions.Regex.Match(o, @"stopped by SIGTERM at step ([\d,]+) of 8,000: ");
        Assert.True(stopped.Success, o);
        long step = long.Parse(stopped.Groups[1].Value.Replace(",", ""));
        Assert.InRange(step, 1, 7_999);
        Assert.DoesNotContain("trained in", o);
        // the checkpoint holds that step: a resume with a shorter length ends at once if it is past it, else finishes
        var (code, resumed, resumeErr) = Run([.. args.Select(a => a == "2000" ? ((step + 3) / 4 + 1).ToString() : a), "--resume"]);
        Assert.True(code == 0, resumeErr);
        Assert.Contains("trained in", resumed);
    }

    [Fact]
    public void TrainInitFromFineTunesATrainedRunAndRecordsWhereItStarted()
    {
        var folder = "folder:" + TinyData.RgbFolder(perClass: 10, size: 20);
        string[] tiny = ["--model", "unet", "--image-size", "8", "--ch", "8", "--ch-mult", "1,2", "--num-res-blocks", "1", "--attn", "4",
            "--epochs", "1", "--batch-size", "6", "--diffusion-steps", "20", "--grid-every", "0"];
        string[] With(string option, string value) => tiny.Select((a, i) => i > 0 && tiny[i - 1] == option ? value : a).ToArray();
        var pretrained = Temp();
        var (code, _, err) = Run(["train", "--dataset", folder, .. tiny, "--out", pretrained]);
        Assert.True(code == 0, err);
        var tuned = Temp();
        (code, var o, err) = Run(["train", "--dataset", folder, .. tiny, "--lr", "1e-5", "--init-from", pretrained, "--out", tuned]);
        Assert.True(code == 0, err);
        Assert.Matches($@"initialised (\d+) of \1 weights from {System.Text.RegularExpressions.Regex.Escape(pretrained)}\n", o);
        Assert.Equal(pretrained, DiffusionLab.Runs.ImageRun.ReadConfig(tuned).InitFrom);
        // resuming reads the checkpoint, not the source again
        (code, o, err) = Run(["train", "--dataset", folder, .. With("--epochs", "2"), "--lr", "1e-5", "--init-from", pretrained, "--out", tuned, "--resume"]);
        Assert.True(code == 0, err);
        Assert.DoesNotContain("initialised", o);
        // another width, or a CS180 model, is refused in one line before any training
        (code, _, err) = Run(["train", "--dataset", folder, .. With("--ch", "16"), "--init-from", pretrained, "--out", Temp()]);
        Assert.Equal(1, code);
        Assert.Contains("is another network than this one", err);
        // another noise schedule or prediction target: the weights would fit, their meaning would not
        (code, _, err) = Run(["train", "--dataset", folder, .. tiny, "--schedule", "cosine", "--init-from", pretrained, "--out", Temp()]);
        Assert.Equal(1, code);
        Assert.Contains("learned the linear schedule, 20 steps, eps prediction diffusion; this run trains the cosine schedule, 20 steps, eps prediction one", err);
        Assert.Contains("give the source's --schedule, --diffusion-steps and --prediction", err);
        (code, _, err) = Run(["train", "--dataset", folder, .. tiny, "--prediction", "v", "--init-from", pretrained, "--out", Temp()]);
        Assert.Equal(1, code);
        Assert.Contains("this run trains the linear schedule, 20 steps, v prediction one", err);
        var cs180 = Temp();
        (code, _, err) = Run("train", "--dataset", folder, "--model", "cs180-class", "--image-size", "8", "--epochs", "1", "--hidden", "4", "--batch-size", "6", "--diffusion-steps", "20", "--grid-every", "0", "--out", cs180);
        Assert.True(code == 0, err);
        (code, _, err) = Run(["train", "--dataset", folder, .. tiny, "--init-from", cs180, "--out", Temp()]);
        Assert.Equal(1, code);
        Assert.Contains("is a cs180-class model; this run trains a unet", err);
    }

    [Fact]
    public void DenoiseDrawsNoisyExamplesAndATrainedDenoisersOutput()
    {
        var data = IdxBars();
        var outDir = Temp();
        var (code, o, err) = Run("denoise", "--dataset", "idx:" + data, "--n", "4", "--out", outDir);
        Assert.True(code == 0, err);
        Assert.True(File.Exists(Path.Combine(outDir, "noisy.png")));
        var run = Temp();
        (code, _, err) = Run("train", "--dataset", "idx:" + data, "--model", "cs180-single", "--epochs", "1", "--hidden", "4", "--batch-size", "16", "--out", run);
        Assert.True(code == 0, err);
        (code, _, err) = Run("denoise", "--run", run, "--sigmas", "0,0.5,1", "--n", "4", "--out", outDir);
        Assert.True(code == 0, err);
        using var grid = SKBitmap.Decode(Path.Combine(outDir, "denoised.png"));
        Assert.True(grid.Height > 6 * 8); // six rows: noisy and denoised for three σ
        (code, _, err) = Run("sample", "--run", run, "--out", outDir);
        Assert.Equal(1, code);
        Assert.Contains("single-step denoiser cannot sample", err);
    }

    [Fact]
    public void DenoiseComparesBlurOneStepAndIterativeDenoisingWithADiffusionModel()
    {
        var data = IdxBars();
        var run = Temp();
        var (code, _, err) = Run(["train", "--dataset", "idx:" + data, "--model", "cs180-class", .. TinyTrain, "--out", run]);
        Assert.True(code == 0, err);
        var outDir = Temp();
        string o;
        (code, o, err) = Run("denoise", "--run", run, "--n", "2", "--t", "5,10", "--steps", "10", "--i-start", "3", "--json", "--out", outDir);
        Assert.True(code == 0, err);
        Assert.True(File.Exists(Path.Combine(outDir, "comparison.png")) && File.Exists(Path.Combine(outDir, "iterative.png")));
        using var doc = System.Text.Json.JsonDocument.Parse(o.Split('\n').Last(l => l.StartsWith('{')));
        var levels = doc.RootElement.GetProperty("levels").EnumerateArray().ToList();
        Assert.Equal([5, 10, 13], levels.Select(l => l.GetProperty("t").GetInt32())); // the given levels and i_start's (T = 20, stride 2: 1 + 6·2)
        foreach (var l in levels)
            foreach (var method in new[] { "noisy", "blur", "one_step", "iterative" })
                Assert.InRange(l.GetProperty("scores").GetProperty(method).GetProperty("ssim").GetDouble(), -1, 1);
        (code, _, err) = Run("denoise", "--run", run, "--t", "21", "--out", outDir);
        Assert.Equal(CliApp.ExitUserError, code);
        Assert.Contains("--t 21 is outside the model's steps 1..20", err);
    }

    [Fact]
    public void TheShippedModelDrawsDigitsTheShippedClassifierRecognises()
    {
        // The README's main job, shortened (DDIM-20 instead of DDPM-300) to keep the suite fast.
        var outDir = Temp();
        var (code, o, err) = Run("sample", "--class", "7", "--guidance-scale", "5", "--n", "8", "--sampler", "ddim", "--steps", "20", "--out", outDir);
        Assert.True(code == 0, err);
        Assert.Equal(8, Directory.GetFiles(Path.Combine(outDir, "images"), "*-class7.png").Length);
        (code, o, err) = Run("eval", "accuracy", "--fake", Path.Combine(outDir, "images"), "--json");
        Assert.True(code == 0, err);
        var accuracy = System.Text.Json.JsonDocument.Parse(o).RootElement.GetProperty("accuracy").GetDouble();
        Assert.True(accuracy >= 0.75, $"only {accuracy:P0} of the shipped model's 7s are read as 7");
    }

    [Fact]
    public void TheShippedTextModelSamplesFromPromptsAndNamesWhatItCannotRead()
    {
        // The text-to-image README command, shortened (5 solver steps, 4 images): the shipped weights load with their
        // frozen prompt encoder, every word of "cat face" is read, and characters its vocabulary lacks are reported, not
        // silently dropped.
        var model = Path.Combine(AppContext.BaseDirectory, "models", "emoji32-text");
        var outDir = Temp();
        var (code, o, err) = Run("sample", "--model", model, "--prompt", "cat face", "--prompt", "猫 face 😺", "--n", "4", "--steps", "5", "--out", outDir);
        Assert.True(code == 0, err);
        Assert.Equal(4, Directory.GetFiles(Path.Combine(outDir, "images"), "*.png").Length);
        Assert.DoesNotContain("prompt 'cat face': words", o);
        Assert.DoesNotContain("prompt 'cat face': cut", o);
        // the shipped model's prompt-category prior says what it reads each prompt as: the cat-face emoji are smileys
        // and animals, and the prior puts them there
        Assert.Matches(@"prompt 'cat face': category (Smileys & Emotion|Animals & Nature) \(\d+ %\), then (Smileys & Emotion|Animals & Nature) \(\d+ %\)", o);
        Assert.Contains("prompt '猫 face 😺': words the model's vocabulary lacks (never in a caption, or no word piece of its encoder), read as unknown or left out: 猫 😺", o);
        using var image = SkiaSharp.SKBitmap.Decode(Directory.GetFiles(Path.Combine(outDir, "images"), "*.png").First());
        Assert.Equal((32, 32), (image.Width, image.Height));
    }
}
