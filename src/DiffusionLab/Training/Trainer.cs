using System.Globalization;
using System.Text;
using DiffusionLab.Plotting;
using TorchSharp.Modules;

namespace DiffusionLab.Training;

/// <summary>One logged point of a training run: the mean loss over the last logging window.</summary>
public sealed record LossPoint(long Step, double Loss, double LearningRate);

/// <summary>
/// What the training loop reports at each logging point: the step, the mean loss over the window, the learning rate, the
/// norm of all gradients of the window's last step (before clipping), the steps per second over the window, and, in
/// data-parallel training, the seconds per step spent averaging gradients between the ranks (else 0).
/// </summary>
public sealed record TrainingLogEntry(long Step, double Loss, double LearningRate, double GradientNorm, double StepsPerSecond, double AllReduceSecondsPerStep = 0);

/// <summary>
/// The training loop shared by every model: Adam, warm-up + cosine learning rate, gradient clipping, EMA, optional bf16 mixed precision,
/// NaN detection, a loss curve, and checkpoints written atomically to <c>RUN/checkpoint.bin</c> from which
/// <c>resume</c> continues exactly — the randomness of step s comes from a generator seeded by (seed, s), so a
/// resumed run draws the same batches and noise as an uninterrupted one.
/// </summary>
public sealed class Trainer
{
    public const string CheckpointFile = "checkpoint.bin";
    private const string Magic = "DIFFLAB-CKPT-1";

    /// <param name="network">The network being trained.</param>
    /// <param name="emaShadow">A second instance of the same network to hold the EMA weights (required when EmaDecay &gt; 0).</param>
    /// <param name="loss">Computes the loss of one step from that step's generator (it draws the batch and the noise).</param>
    /// <param name="options">Steps, learning rate, clipping, EMA, logging and checkpoint intervals, seed.</param>
    /// <param name="runDir">Run folder: checkpoint.bin, loss.csv, loss.png.</param>
    /// <param name="resume">Continue from <c>runDir/checkpoint.bin</c>.</param>
    /// <param name="onLog">Called at each logging point (<see cref="TrainingLogEntry"/>).</param>
    /// <param name="shouldStop">Polled after each step; when true a checkpoint is written and training stops (used to test resume).</param>
    /// <param name="onCheckpoint">Called after each checkpoint with (step, sampling network: the EMA shadow, else the network in eval mode).</param>
    /// <param name="onStep">Called after every step with the number of steps done (progress displays).</param>
    /// <param name="ranks">Data-parallel training (<see cref="DataParallel"/>): the processes that train together, each on
    /// its slice of every batch (<paramref name="loss"/> takes it); null for one process.</param>
    public static IReadOnlyList<LossPoint> Train(
        nn.Module network, nn.Module? emaShadow, Func<Generator, Tensor> loss, TrainingOptions options, string runDir,
        bool resume = false, Action<TrainingLogEntry>? onLog = null, Func<bool>? shouldStop = null, Action<long, nn.Module>? onCheckpoint = null,
        Action<long>? onStep = null, Runtime.ICommunicator? ranks = null) =>
        Train(network, emaShadow, (g, _) => loss(g), options, runDir, resume, onLog, shouldStop, onCheckpoint, onStep, ranks);

    /// <summary>The same, for a loss that also needs the 0-based step (epoch-based data order).</summary>
    public static IReadOnlyList<LossPoint> Train(
        nn.Module network, nn.Module? emaShadow, Func<Generator, long, Tensor> loss, TrainingOptions options, string runDir,
        bool resume = false, Action<TrainingLogEntry>? onLog = null, Func<bool>? shouldStop = null, Action<long, nn.Module>? onCheckpoint = null,
        Action<long>? onStep = null, Runtime.ICommunicator? ranks = null)
    {
        options.Validate();
        var parallel = ranks is { Size: > 1 } ? new DataParallel(ranks) : null;
        bool writes = parallel?.IsWriter ?? true; // rank 0 alone writes checkpoints, loss files and grids, and reports
        if (!writes) onLog = null;
        Directory.CreateDirectory(runDir);
        var ema = options.EmaDecay > 0
            ? new Ema(network, emaShadow ?? throw new ArgumentNullException(nameof(emaShadow)), options.EmaDecay)
            : null;
        var parameters = network.parameters().ToList();
        using var optimizer = torch.optim.Adam(parameters, lr: options.LearningRate);
        var history = new List<LossPoint>();
        long start = 0;
        double windowSum = 0;
        int windowCount = 0;
        var checkpoint = Path.Combine(runDir, CheckpointFile);
        long? savedStep = null; // the step of the checkpoint on disk, if there is one
        if (resume)
        {
            if (!File.Exists(checkpoint)) throw new DiffusionLabException($"nothing to resume: {checkpoint} does not exist");
            (start, windowSum, windowCount) = LoadCheckpoint(checkpoint, network, ema?.Shadow, optimizer, history);
            savedStep = start;
        }
        parallel?.StartFromRankZero(network, ema?.Shadow);

        network.train();
        long windowStart = System.Diagnostics.Stopwatch.GetTimestamp();
        for (long step = start; step < options.Steps; step++)
        {
            using var scope = torch.NewDisposeScope();
            double lr = options.LearningRateAt(step);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            var generator = TensorOps.SeededGenerator(options.Seed * 1_000_003 + step);
            torch.manual_seed(options.Seed * 1_000_003 + step); // dropout draws from the global generator: make it a function of the step too
            optimizer.zero_grad();
            Tensor l;
            using (Runtime.MixedPrecision.Enter(options.Precision, network)) l = loss(generator, step); // backward runs outside, as with autocast
            double value = l.item<float>();
            if (parallel is null && !double.IsFinite(value)) throw new DiffusionLabException(DivergenceMessage(value, step + 1, start, savedStep, checkpoint));
            l.backward();
            long done = step + 1;
            bool stopAll = false;
            if (parallel is not null)
            {
                // every rank's gradient and loss averaged, and the stop request shared, in one all-reduce; a NaN on one
                // rank is a NaN on all, so every rank stops together
                (value, stopAll) = parallel.AverageGradients(parameters, value, shouldStop?.Invoke() ?? false);
                if (!double.IsFinite(value)) throw new DiffusionLabException(DivergenceMessage(value, step + 1, start, savedStep, checkpoint));
            }
            bool log = done % options.LogEvery == 0 || done == options.Steps;
            // the gradient norm is read back only where it is logged (clipping computes it on the device every step anyway)
            double gradientNorm = double.NaN;
            if (options.GradClip > 0)
            {
                using var norm = ClipGradientNorm(parameters, options.GradClip);
                if (log) gradientNorm = norm.item<float>();
            }
            else if (log && onLog is not null) gradientNorm = GradientNorm(parameters);
            optimizer.step();
            ema?.Update(step, options.EmaWarmup);
            windowSum += value;
            windowCount++;
            if (log)
            {
                long now = System.Diagnostics.Stopwatch.GetTimestamp();
                double seconds = (now - windowStart) / (double)System.Diagnostics.Stopwatch.Frequency;
                history.Add(new LossPoint(done, windowSum / windowCount, lr));
                onLog?.Invoke(new TrainingLogEntry(done, windowSum / windowCount, lr, gradientNorm, seconds > 0 ? windowCount / seconds : double.NaN,
                    parallel is null ? 0 : parallel.TakeAllReduceSeconds() / windowCount));
                windowSum = 0;
                windowCount = 0;
                windowStart = now;
            }
            onStep?.Invoke(done);
            bool stop = parallel is null ? shouldStop?.Invoke() ?? false : stopAll;
            if (done % options.CheckpointEvery == 0 || done == options.Steps || stop)
            {
                parallel?.CheckRanksAgree(network, done);
                if (writes)
                {
                    SaveCheckpoint(checkpoint, done, network, ema?.Shadow, optimizer, history, windowSum, windowCount);
                    savedStep = done;
                    WriteLossFiles(history, runDir);
                    if (onCheckpoint is not null && !stop)
                    {
                        if (ema is null) network.eval();
                        onCheckpoint(done, ema?.Shadow ?? network);
                        network.train();
                    }
                    Runtime.NativeRuntime.ReleaseFreeMemory(); // the checkpoint and grid leave holes in the heap: keep the peak flat
                    if (windowCount == 0) windowStart = System.Diagnostics.Stopwatch.GetTimestamp(); // steps per second count training steps only
                }
            }
            if (stop) break;
        }
        return history;
    }

    /// <summary>
    /// The weight the random initial network keeps in the EMA shadow after training: d^steps without warm-up (each update
    /// keeps a fraction d of the shadow), ∏ min(d, (1 + n)/(10 + n)) with it; null without EMA. Above a few per cent the
    /// samples come from a blur of the initial network (a 1,500-step 2-D run at d = 0.999 keeps 22 %).
    /// </summary>
    public static double? InitialWeightInEma(TrainingOptions options)
    {
        if (!(options.EmaDecay > 0)) return null;
        if (!options.EmaWarmup) return Math.Pow(options.EmaDecay, options.Steps);
        double kept = 1;
        for (long n = 0; n < options.Steps && kept > 1e-12; n++) kept *= Math.Min(options.EmaDecay, (1.0 + n) / (10.0 + n));
        return kept;
    }

    /// <summary>
    /// What a non-finite loss means, honestly: which checkpoint (if any) is kept, and what to try. A loss that is already
    /// non-finite within the first steps of a fresh run is not a learning-rate problem but a numerical one, so the message
    /// names the native settings in force (oneDNN, allocator) instead of blaming --lr.
    /// </summary>
    internal static string DivergenceMessage(double loss, long step, long firstStep, long? savedStep, string checkpoint)
    {
        string kept = savedStep is long s
            ? $"the checkpoint of step {s} in {checkpoint} is kept (`resume` continues from it)"
            : "no checkpoint was written yet";
        string advice = step - firstStep <= 3
            ? $"a loss that is not finite in the first steps points at the numerics, not the learning rate: native settings {Runtime.NativeRuntime.Describe()}; try DIFFLAB_MKLDNN=0 or `Precision` fp32"
            : "try a lower `LearningRate` or `GradClip`";
        return $"training diverged: the loss is {loss} at step {step}; {kept}; {advice}";
    }

    /// <summary>‖g‖, the norm of all gradients together (what <see cref="ClipGradientNorm"/> clips).</summary>
    public static double GradientNorm(IReadOnlyList<Parameter> parameters)
    {
        using var scope = torch.NewDisposeScope();
        var grads = parameters.Select(p => p.grad).OfType<Tensor>().ToList();
        return grads.Count == 0 ? 0 : TotalNorm(grads).item<float>();
    }

    /// <summary>The norm of several tensors taken together, as one 0-d tensor on their device.</summary>
    private static Tensor TotalNorm(IReadOnlyList<Tensor> tensors) => torch.stack(tensors.Select(g => g.detach().norm()).ToArray()).norm();

    /// <summary>
    /// Scales all gradients by min(1, c/(‖g‖ + 1e-6)), ‖g‖ the norm of all gradients together (Pascanu et al. 2013, §3.2;
    /// PyTorch's clip_grad_norm_), computed on the device without reading the norm back to the host — TorchSharp's
    /// native clip_grad_norm_ took a third of a 2-D MLP training step. Returns the norm before clipping (a 0-d tensor).
    /// </summary>
    public static Tensor ClipGradientNorm(IReadOnlyList<Parameter> parameters, double maxNorm)
    {
        using var scope = torch.NewDisposeScope();
        var grads = parameters.Select(p => p.grad).OfType<Tensor>().ToList();
        if (grads.Count == 0) return torch.zeros(1).MoveToOuterDisposeScope();
        var total = TotalNorm(grads);
        var coefficient = (maxNorm / (total + 1e-6)).clamp_max(1.0);
        using (torch.no_grad())
            foreach (var g in grads) g.mul_(coefficient);
        return total.MoveToOuterDisposeScope();
    }

    /// <summary>The step a checkpoint was written at.</summary>
    public static long CheckpointStep(string path)
    {
        using var reader = OpenCheckpoint(path);
        return reader.ReadInt64();
    }

    /// <summary>Loads only the sampling weights (EMA when present, else the raw ones) of a checkpoint into <paramref name="network"/>.</summary>
    public static void LoadWeights(string path, nn.Module network, bool preferEma = true)
    {
        using var reader = OpenCheckpoint(path);
        reader.ReadInt64();
        try
        {
            network.load(reader);
            bool hasEma = reader.ReadBoolean();
            if (hasEma && preferEma) network.load(reader);
        }
        catch (Exception e) when (e is not DiffusionLabException)
        {
            throw new DiffusionLabException($"checkpoint {path} is corrupt or does not match this network ({e.Message.Split('\n')[0]})", e);
        }
    }

    private static BinaryReader OpenCheckpoint(string path)
    {
        if (!File.Exists(path)) throw new DiffusionLabException($"checkpoint not found: {path}");
        var reader = new BinaryReader(File.OpenRead(path));
        try
        {
            if (reader.ReadString() != Magic) throw new DiffusionLabException($"{path} is not a DiffusionLab checkpoint");
            return reader;
        }
        catch (EndOfStreamException)
        {
            reader.Dispose();
            throw new DiffusionLabException($"{path} is not a DiffusionLab checkpoint");
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    private static void SaveCheckpoint(string path, long step, nn.Module network, nn.Module? ema, TorchSharp.Modules.OptimizerHelper optimizer,
        List<LossPoint> history, double windowSum, int windowCount)
    {
        AtomicFile.Write(path, stream =>
        {
            using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            w.Write(Magic);
            w.Write(step);
            network.save(w);
            w.Write(ema is not null);
            ema?.save(w);
            optimizer.save_state_dict(w);
            w.Write(history.Count);
            foreach (var p in history) { w.Write(p.Step); w.Write(p.Loss); w.Write(p.LearningRate); }
            w.Write(windowSum); // the partly filled logging window, so a resumed run logs the same means
            w.Write(windowCount);
        });
    }

    private static (long Step, double WindowSum, int WindowCount) LoadCheckpoint(string path, nn.Module network, nn.Module? ema, TorchSharp.Modules.OptimizerHelper optimizer, List<LossPoint> history)
    {
        using var reader = OpenCheckpoint(path);
        try
        {
            long step = reader.ReadInt64();
            network.load(reader);
            bool hasEma = reader.ReadBoolean();
            if (hasEma != (ema is not null)) throw new DiffusionLabException($"checkpoint {path} {(hasEma ? "has" : "has no")} EMA weights but this run {(hasEma ? "has none" : "uses EMA")}");
            if (ema is not null) ema.load(reader);
            optimizer.load_state_dict(reader);
            int count = reader.ReadInt32();
            for (int i = 0; i < count; i++) history.Add(new LossPoint(reader.ReadInt64(), reader.ReadDouble(), reader.ReadDouble()));
            return (step, reader.ReadDouble(), reader.ReadInt32());
        }
        catch (Exception e) when (e is not DiffusionLabException)
        {
            throw new DiffusionLabException($"checkpoint {path} is corrupt or does not match this network ({e.Message.Split('\n')[0]})", e);
        }
    }

    /// <summary>Writes loss.csv (step,loss,lr) and loss.png.</summary>
    public static void WriteLossFiles(IReadOnlyList<LossPoint> history, string runDir)
    {
        var sb = new StringBuilder("step,loss,lr\n");
        foreach (var p in history) sb.Append(CultureInfo.InvariantCulture, $"{p.Step},{p.Loss:R},{p.LearningRate:R}\n");
        AtomicFile.WriteAllText(Path.Combine(runDir, "loss.csv"), sb.ToString());
        if (history.Count == 0) return;
        var plot = PlotFiles.Lines("Training loss", "step", "loss (log scale)",
            [("loss", history.Select(p => (double)p.Step).ToArray(), history.Select(p => Math.Log10(Math.Max(p.Loss, 1e-12))).ToArray())]);
        PlotFiles.UseLog10LeftAxis(plot);
        PlotFiles.UseIntegerBottomAxis(plot);
        PlotFiles.SavePng(plot, Path.Combine(runDir, "loss.png"), 800, 450);
    }
}
