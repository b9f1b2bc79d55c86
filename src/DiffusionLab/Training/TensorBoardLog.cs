using TorchSharp.Modules;

namespace DiffusionLab.Training;

/// <summary>
/// A training run's TensorBoard log (<c>RUN/tensorboard/</c>, read with <c>tensorboard --logdir RUN/tensorboard</c>),
/// written through TorchSharp's own <c>torch.utils.tensorboard.SummaryWriter</c>: at every logging point the scalars
/// <c>train/loss</c> (the window's mean), <c>train/learning_rate</c>, <c>train/gradient_norm</c> (before clipping) and
/// <c>train/images_per_second</c>; at every epoch the sample grid (<c>samples</c>) and the histogram of that epoch's
/// logged losses (<c>train/loss_histogram</c>). A resumed run appends a new event file to the same folder, and TensorBoard
/// shows the steps after the last checkpoint twice (once from each process).
/// </summary>
public sealed class TensorBoardLog
{
    public const string Folder = "tensorboard";

    private readonly SummaryWriter _writer;
    private readonly int _batchSize;
    private readonly List<float> _epochLosses = new();

    /// <summary>A log under <paramref name="runDir"/>/tensorboard for a run training on batches of <paramref name="batchSize"/>.</summary>
    public TensorBoardLog(string runDir, int batchSize)
    {
        var dir = Path.Combine(runDir, Folder);
        Directory.CreateDirectory(dir);
        _writer = torch.utils.tensorboard.SummaryWriter(dir, createRunName: false);
        _batchSize = batchSize;
    }

    /// <summary>The scalars of one logging point.</summary>
    public void Log(TrainingLogEntry e)
    {
        int step = checked((int)e.Step);
        _writer.add_scalar("train/loss", (float)e.Loss, step);
        _writer.add_scalar("train/learning_rate", (float)e.LearningRate, step);
        if (double.IsFinite(e.GradientNorm)) _writer.add_scalar("train/gradient_norm", (float)e.GradientNorm, step);
        if (double.IsFinite(e.StepsPerSecond)) _writer.add_scalar("train/images_per_second", (float)(e.StepsPerSecond * _batchSize), step);
        if (e.AllReduceSecondsPerStep > 0) _writer.add_scalar("train/allreduce_seconds_per_step", (float)e.AllReduceSecondsPerStep, step);
        _epochLosses.Add((float)e.Loss);
    }

    /// <summary>The end of an epoch at <paramref name="step"/>: its sample grid (a PNG, if written) and the histogram of its logged losses.</summary>
    public void Epoch(long step, string? gridPng)
    {
        int s = checked((int)step);
        if (gridPng is not null && File.Exists(gridPng)) _writer.add_img("samples", gridPng, s);
        if (_epochLosses.Count > 0)
        {
            using var losses = torch.tensor(_epochLosses.ToArray());
            _writer.add_histogram("train/loss_histogram", losses, s);
            _epochLosses.Clear();
        }
    }
}
