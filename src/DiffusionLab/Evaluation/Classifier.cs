using System.Text;
using System.Text.Json;
using DiffusionLab.Data;
using DiffusionLab.Models;
using DiffusionLab.Schedules;
using DiffusionLab.Training;

namespace DiffusionLab.Evaluation;

/// <summary>What a saved classifier knows about itself: its network, its data and its held-out accuracy.</summary>
public sealed record ClassifierInfo
{
    public DomainClassifierConfig Network { get; init; } = new();
    public string Dataset { get; init; } = "";
    public string[] ClassNames { get; init; } = [];
    public double HeldoutAccuracy { get; init; }
    public int HeldoutCount { get; init; }
    public int Epochs { get; init; }
    public long Seed { get; init; }
    /// <summary>For a noise-aware classifier p(y | x_t, t): the schedule spec and step count it was trained on.</summary>
    public string? NoiseSchedule { get; init; }
    public int DiffusionSteps { get; init; }
    /// <summary>For a noise-aware classifier: held-out accuracy at x_t for t = 0, T/4, T/2, 3T/4 and T.</summary>
    public double[]? NoisyHeldoutAccuracy { get; init; }
    /// <summary>Held-out accuracy of each class, and their mean (the balanced accuracy: what a class-balanced set of
    /// samples is read at when the classifier is as good on samples as on real images). Null for older classifiers.</summary>
    public double?[]? HeldoutClassAccuracy { get; init; }
    public double? HeldoutBalancedAccuracy { get; init; }
    /// <summary>Trained with class-weighted cross-entropy (each class weighs as much in the loss, whatever its size).</summary>
    public bool Balanced { get; init; }
}

/// <summary>
/// A trained domain classifier in a folder (<c>classifier.json</c> + <c>weights.bin</c>): the judge of conditional
/// samples (does a "7" look like a 7?) and the feature network of FID, KID and precision/recall.
/// </summary>
public sealed class Classifier : IDisposable, Conditioning.INoisyClassifier, IFeatureNetwork
{
    bool Conditioning.INoisyClassifier.NoiseAware => Info.Network.NoiseAware;
    int Conditioning.INoisyClassifier.DiffusionSteps => Info.DiffusionSteps;
    string Conditioning.INoisyClassifier.NoiseSchedule => Info.NoiseSchedule ?? "no schedule";

    Tensor Conditioning.INoisyClassifier.NoisyLogits(Tensor x, Tensor time)
    {
        Network.eval();
        return Network.Logits(x.to(Device), time.to(Device));
    }

    public const string InfoFile = "classifier.json";
    public const string WeightsFile = "weights.bin";
    private const string Magic = "DIFFLAB-CLASSIFIER-1";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    static Classifier() => Runtime.NativeRuntime.Configure();

    private Classifier(ClassifierInfo info, DomainClassifier network, Device device)
    {
        Info = info;
        Network = network;
        Device = device;
    }

    public ClassifierInfo Info { get; private set; }
    /// <summary>A short hash of the saved weights (empty before saving): keys the feature cache.</summary>
    public string WeightsHash { get; private set; } = "";
    public DomainClassifier Network { get; }
    public Device Device { get; }
    public int Channels => Info.Network.Channels;
    public int ImageSize => Info.Network.ImageSize;

    /// <summary>What a classifier's training was asked to do; saved as <c>training.json</c> so <c>resume</c> refuses other settings.</summary>
    public sealed record TrainingSettings(string Dataset, string Kind, int Epochs, int BatchSize, double LearningRate, long Seed, string? NoiseSchedule, int DiffusionSteps, bool Balanced = false);

    public const string TrainingFile = "training.json";

    /// <summary>
    /// Trains a classifier on <paramref name="train"/> through the shared <see cref="Trainer"/> (Adam, cosine learning-rate
    /// decay without warm-up, no clipping, no EMA; cross-entropy; random affine augmentation: rotation ±10°, scale 0.9–1.1,
    /// shifts of up to size/14 px), measures it on <paramref name="heldout"/> after every epoch and saves it to
    /// <paramref name="folder"/>, which also holds the checkpoint (so <paramref name="resume"/> continues a stopped run
    /// exactly), <c>loss.csv</c> and <c>loss.png</c>. Stopped by <paramref name="shouldStop"/>, it saves only the checkpoint.
    /// With <paramref name="balanced"/> each class's cross-entropy is weighted by N / (K · N_c) (King &amp; Zeng 2001's
    /// prior correction), so a small class weighs as much as a large one: for data sets such as emoji, where one category
    /// has ten times the images of another, and the judge must read every class.
    /// </summary>
    public static Classifier Train(ImageDataset train, ImageDataset heldout, string datasetSpec, string folder, int epochs = 5, int batchSize = 128,
        double lr = 1e-3, long seed = 0, string? kind = null, Device? device = null, Action<int, double, double>? onEpoch = null,
        string? noiseSchedule = null, int diffusionSteps = 0, bool resume = false, Action<long, long>? onStep = null, Func<bool>? shouldStop = null,
        bool balanced = false)
    {
        if (epochs < 1) throw new DiffusionLabException($"`epochs` must be at least 1, got {epochs}");
        if (batchSize < 1) throw new DiffusionLabException($"`batchSize` must be at least 1, got {batchSize}");
        if (train.Count < batchSize) throw new DiffusionLabException($"{train.Count} training images are fewer than one batch of {batchSize} (`batchSize`)");
        device ??= CPU;
        torch.manual_seed(seed);
        using var gradients = torch.enable_grad(); // training works inside a caller's no_grad scope too
        bool small = train.Channels == 1 && train.Height <= 32;
        var config = new DomainClassifierConfig
        {
            Kind = kind ?? (small ? "cnn" : "resnet"),
            Channels = train.Channels, ImageSize = train.Height, NumClasses = train.NumClasses,
            FeatureDim = small ? 128 : 256,
            NoiseAware = noiseSchedule is not null,
        };
        var schedule = noiseSchedule is null ? null : Schedules.NoiseSchedules.Create(noiseSchedule, diffusionSteps);
        RunFolder.Prepare(folder, TrainingFile, new TrainingSettings(datasetSpec, config.Kind, epochs, batchSize, lr, seed, noiseSchedule, schedule?.Steps ?? 0, balanced),
            Json, resume, "Epochs");
        using var forward = schedule is null ? null : new ForwardProcess(schedule, device);
        var net = new DomainClassifier(config);
        net.to(device);
        var classifier = new Classifier(new ClassifierInfo { Network = config, Dataset = datasetSpec, ClassNames = train.ClassNames.ToArray(), Epochs = epochs, Seed = seed,
            NoiseSchedule = noiseSchedule, DiffusionSteps = schedule?.Steps ?? 0, Balanced = balanced }, net, device);
        using var classWeights = balanced ? BalancedWeights(train.Labels, train.NumClasses).to(device) : null;
        int perEpoch = train.Count / batchSize;
        var options = new TrainingOptions
        {
            Steps = epochs * perEpoch, StepsPerEpoch = perEpoch, LearningRate = lr, LrSchedule = "cosine", WarmupSteps = 0,
            GradClip = 0, EmaDecay = 0, LogEvery = perEpoch, CheckpointEvery = perEpoch, Seed = seed,
        };
        int[] order = [];
        long orderEpoch = -1;
        Tensor Loss(Generator g, long step)
        {
            long epoch = step / perEpoch;
            if (epoch != orderEpoch) // the epoch's data order is a function of (seed, epoch), so a resumed run draws the same batches
            {
                order = Enumerable.Range(0, train.Count).ToArray();
                TensorOps.EpochRandom(seed, (int)epoch).Shuffle(order);
                orderEpoch = epoch;
            }
            net.train(); // the held-out measurement between epochs leaves the network in eval mode
            var (x, y) = train.Batch(new ArraySegment<int>(order, (int)(step % perEpoch) * batchSize, batchSize), device);
            x = RandomAffine(x, g, train.Height / 14); // the classifier must not depend on exact pixel positions or slant
            Tensor? time = null;
            if (schedule is not null)
            {
                // Dhariwal & Nichol 2021, §4.1: train on x_t ~ q(x_t | x_0) at t ~ U{0..T} (t = 0 keeps it a clean-image judge too)
                var t = torch.randint(0, schedule.Steps + 1, [x.shape[0]], generator: g);
                x = forward!.Sample(x, t.to(device), NoiseGenerator.RandnLike(x, g));
                time = t.to_type(ScalarType.Float32).to(device) / schedule.Steps;
            }
            return nn.functional.cross_entropy(net.Logits(x, time), y, weight: classWeights);
        }
        double lastLoss = double.NaN;
        long reached = 0;
        Trainer.Train(net, null, Loss, options, folder, resume, onLog: e => lastLoss = e.Loss, shouldStop: shouldStop, onStep: done =>
        {
            reached = done;
            onStep?.Invoke(done, options.Steps);
            if (done % perEpoch == 0 && onEpoch is not null) onEpoch((int)(done / perEpoch), lastLoss, classifier.Accuracy(heldout));
        });
        net.eval();
        if (reached < options.Steps) return classifier; // stopped early: only the checkpoint is saved, resume finishes it
        var tally = classifier.Tally(heldout, classifier.Predict); // one pass: the overall and the per-class figures
        var perClass = PerClass(tally);
        classifier.Info = classifier.Info with
        {
            HeldoutAccuracy = (double)tally.Correct.Sum() / heldout.Count, HeldoutCount = heldout.Count,
            HeldoutClassAccuracy = [.. perClass.Select(a => double.IsNaN(a) ? (double?)null : a)], HeldoutBalancedAccuracy = Evaluator.BalancedAccuracy(perClass),
            NoisyHeldoutAccuracy = schedule is null ? null : [.. new[] { 0, 1, 2, 3, 4 }.Select(q => classifier.NoisyAccuracy(heldout, schedule, q * schedule.Steps / 4, seed))],
        };
        classifier.Save(folder);
        return classifier;
    }

    /// <summary>Cross-entropy weights N / (K · N_c) of labels in 0..K−1 (0 for a class with no images).</summary>
    internal static Tensor BalancedWeights(IReadOnlyList<int> labels, int numClasses)
    {
        var counts = new double[numClasses];
        foreach (var l in labels) counts[l]++;
        return torch.tensor(counts.Select(c => c == 0 ? 0 : labels.Count / (numClasses * c)).Select(w => (float)w).ToArray());
    }

    /// <summary>Accuracy of a noise-aware classifier on <paramref name="data"/> noised to step <paramref name="t"/> (seeded noise).</summary>
    public double NoisyAccuracy(ImageDataset data, Schedules.NoiseSchedule schedule, int t, long seed)
    {
        if (!Info.Network.NoiseAware) throw new DiffusionLabException("this classifier is not noise-aware (train it on noisy images: `noiseSchedule`)");
        Network.eval();
        using var noGrad = torch.no_grad();
        var g = TensorOps.SeededGenerator(seed + 7);
        return Accuracy(data, x => Network.Logits(ForwardProcess.Sample(schedule, x, t, g), torch.full(x.shape[0], (float)t / schedule.Steps, device: Device)).argmax(1));
    }

    /// <summary>
    /// A random affine warp per image (rotation ±10°, scale 0.9–1.1, shift up to <paramref name="maxShift"/> px),
    /// resampled bilinearly; the area brought in from outside is background (−1), not grey.
    /// </summary>
    internal static Tensor RandomAffine(Tensor x, Generator g, int maxShift)
    {
        long b = x.shape[0];
        var angle = (torch.rand(b, generator: g) * 2 - 1) * (10 * Math.PI / 180);
        var scale = 0.9 + torch.rand(b, generator: g) * 0.2;
        var shift = (torch.rand(b, 2, generator: g) * 2 - 1) * (2.0 * maxShift / x.shape[3]); // affine_grid works in [−1, 1] units
        var cos = torch.cos(angle) / scale;
        var sin = torch.sin(angle) / scale;
        var theta = torch.stack([torch.stack([cos, -sin, shift[.., 0]], 1), torch.stack([sin, cos, shift[.., 1]], 1)], 1).to(x.dtype).to(x.device);
        var grid = nn.functional.affine_grid(theta, x.shape, align_corners: false);
        // grid_sample pads with zeros; shifting to [0, 2] first makes the padding the background value.
        return nn.functional.grid_sample(x + 1, grid, align_corners: false) - 1;
    }

    /// <summary>Fraction of <paramref name="data"/> classified correctly.</summary>
    public double Accuracy(ImageDataset data) => Accuracy(data, Predict);

    /// <summary>Fraction of <paramref name="data"/> whose class <paramref name="predict"/> gets right.</summary>
    private double Accuracy(ImageDataset data, Func<Tensor, Tensor> predict) => (double)Tally(data, predict).Correct.Sum() / data.Count;

    /// <summary>Per class of <paramref name="data"/>: how many of its images <paramref name="predict"/> gets right, and how
    /// many there are (in chunks of 500).</summary>
    private (long[] Correct, long[] Total) Tally(ImageDataset data, Func<Tensor, Tensor> predict)
    {
        CheckImages(data.Channels, data.Height, data.Width, data.Name);
        int classes = Math.Max(Info.ClassNames.Length, data.NumClasses);
        var correct = new long[classes];
        var total = new long[classes];
        for (int s = 0; s < data.Count; s += 500)
        {
            using var scope = torch.NewDisposeScope();
            var (x, y) = data.Batch(Enumerable.Range(s, Math.Min(500, data.Count - s)).ToArray(), Device);
            var predicted = predict(x).cpu().data<long>().ToArray();
            var truth = y.cpu().data<long>().ToArray();
            for (int i = 0; i < truth.Length; i++)
            {
                total[truth[i]]++;
                if (predicted[i] == truth[i]) correct[truth[i]]++;
            }
        }
        return (correct, total);
    }

    /// <summary>The fraction of each class's images read as that class (NaN for a class <paramref name="data"/> lacks).</summary>
    public double[] ClassAccuracies(ImageDataset data) => PerClass(Tally(data, Predict));

    private static double[] PerClass((long[] Correct, long[] Total) tally) =>
        tally.Correct.Zip(tally.Total, (c, t) => t == 0 ? double.NaN : (double)c / t).ToArray();

    /// <summary>Predicted classes [N] of images [N, C, H, W] in [−1, 1].</summary>
    public Tensor Predict(Tensor images) => Map(images, x => Network.call(x).argmax(1));

    /// <summary>Class probabilities [N, K].</summary>
    public Tensor Probabilities(Tensor images) => Map(images, x => torch.softmax(Network.call(x), 1));

    /// <summary>Penultimate features [N, F] (float64), the input of FID, KID and precision/recall.</summary>
    public Tensor Features(Tensor images, Action<long, long>? onProgress = null) => Map(images, x => Network.Features(x).to_type(ScalarType.Float64), onProgress);

    public string Description => Info.Dataset + " classifier";

    /// <summary>The weights' hash: a retrained classifier never reads its predecessor's cached features.</summary>
    public string CacheKey => WeightsHash;

    /// <summary>The images' size must be the classifier's, and a data set's images the data set it was trained on.</summary>
    public void CheckImages(ImageSet set)
    {
        CheckImages(set.Channels, set.Height, set.Width, set.Name);
        if (set.Dataset is string d && d != Info.Dataset)
            throw new DiffusionLabException($"the feature network was trained on {Info.Dataset}, not {d}; pass `features` trained on {d}");
    }

    private Tensor Map(Tensor images, Func<Tensor, Tensor> f, Action<long, long>? onProgress = null)
    {
        CheckImages((int)images.shape[1], (int)images.shape[2], (int)images.shape[3], "the images");
        Network.eval();
        using var noGrad = torch.no_grad();
        var parts = new List<Tensor>();
        for (long s = 0; s < images.shape[0]; s += 500)
        {
            using var scope = torch.NewDisposeScope();
            parts.Add(f(images[(int)s..(int)Math.Min(s + 500, images.shape[0])].to(Device)).cpu().MoveToOuterDisposeScope());
            onProgress?.Invoke(Math.Min(s + 500, images.shape[0]), images.shape[0]);
        }
        var all = torch.cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return all;
    }

    public void CheckImages(int channels, int height, int width, string what)
    {
        if (channels != Channels || height != ImageSize || width != ImageSize)
            throw new DiffusionLabException($"{what} are {channels}×{height}×{width} but the feature network ({Info.Dataset}) takes {Channels}×{ImageSize}×{ImageSize}; use `features` trained on this kind of data");
    }

    public void Save(string dir)
    {
        Directory.CreateDirectory(dir);
        AtomicFile.WriteAllText(Path.Combine(dir, InfoFile), JsonSerializer.Serialize(Info, Json));
        AtomicFile.Write(Path.Combine(dir, WeightsFile), stream =>
        {
            using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            w.Write(Magic);
            Network.save(w);
        });
        WeightsHash = HashOf(Path.Combine(dir, WeightsFile));
    }

    private static string HashOf(string path) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)))[..16].ToLowerInvariant();

    public static Classifier Load(string dir, Device? device = null)
    {
        device ??= CPU;
        var infoPath = Path.Combine(dir, InfoFile);
        if (!File.Exists(infoPath)) throw new DiffusionLabException($"not a classifier folder (no {InfoFile}): {dir}");
        ClassifierInfo info;
        try { info = JsonSerializer.Deserialize<ClassifierInfo>(File.ReadAllText(infoPath), Json) ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw new DiffusionLabException($"{infoPath} is not a valid classifier description ({e.Message.Split('\n')[0]})"); }
        var net = new DomainClassifier(info.Network);
        var weights = Path.Combine(dir, WeightsFile);
        if (!File.Exists(weights)) throw new DiffusionLabException($"classifier weights not found: {weights}");
        try
        {
            using var r = new BinaryReader(File.OpenRead(weights));
            if (r.ReadString() != Magic) throw new DiffusionLabException($"{weights} is not a DiffusionLab classifier");
            net.load(r);
        }
        catch (Exception e) when (e is not DiffusionLabException)
        {
            net.Dispose();
            throw new DiffusionLabException($"classifier weights {weights} are corrupt ({e.Message.Split('\n')[0]})", e);
        }
        net.to(device);
        net.eval();
        return new Classifier(info, net, device) { WeightsHash = HashOf(weights) };
    }

    public void Dispose() => Network.Dispose();
}
