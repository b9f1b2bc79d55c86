using System.Diagnostics;
using System.Globalization;

namespace DiffusionLab.Runtime;

/// <summary>
/// Which memory layout a network's convolutions take (<see cref="MixedPrecision.Call"/>): channels-last (NHWC) or
/// PyTorch's default NCHW. Neither wins everywhere: channels-last saved the reorders that dominated a CS180 U-Net
/// training step on an Intel family 6 model 207 CPU, but cost the 32×32 attention U-Net a quarter of its speed on an
/// AMD family 25 model 17 CPU (docs/PERFORMANCE.md). So, as <c>torch.backends.cudnn.benchmark</c> does for cuDNN's
/// algorithms, the layout is chosen per workload — network, image shape, precision, training or sampling — by timing both
/// on the real network, alternately, once per machine state; the answer is cached (<see cref="MachineCache"/>:
/// <c>layouts.json</c>) so that every later run on the machine takes the same kernels and its numbers do not depend on a
/// timing. DIFFLAB_CHANNELS_LAST=1 or 0 forces a layout; with oneDNN off it is NCHW (ATen's reference convolutions are
/// NCHW). The choice is per thread while a <see cref="Use"/> scope is open, else the process default of
/// <see cref="NativeRuntime.ChannelsLast"/>.
/// </summary>
public static class ConvolutionLayout
{
    /// <summary>Timed rounds per layout after the warm-up passes.</summary>
    public const int Rounds = 5;

    [ThreadStatic] private static bool? _current;
    private static readonly object Gate = new();

    /// <summary>Whether convolutions on this thread take channels-last operands now.</summary>
    public static bool ChannelsLast => _current ?? NativeRuntime.ChannelsLast;

    /// <summary>Convolutions on this thread take <paramref name="channelsLast"/> operands until the scope is disposed (scopes nest).</summary>
    public static IDisposable Use(bool channelsLast)
    {
        bool? before = _current;
        _current = channelsLast;
        return new Restore(() => _current = before);
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }

    /// <summary>A chosen layout and why.</summary>
    public sealed record Choice(bool ChannelsLast, string Reason)
    {
        public string Describe() => $"{(ChannelsLast ? "channels-last" : "NCHW")} convolutions ({Reason})";
    }

    /// <summary>
    /// The layout for <paramref name="workload"/> (a description of everything the timing depends on besides the machine:
    /// network, parameters, input shape, precision, training or sampling): forced, cached, or measured now by running
    /// <paramref name="runOnce"/> (under the layout being timed; it must leave no trace: no weights, statistics or random
    /// streams changed) in both layouts alternately (<see cref="Measure"/>); the layout with the faster pass wins.
    /// </summary>
    public static Choice Choose(string workload, Action runOnce)
    {
        NativeRuntime.Configure();
        switch (Environment.GetEnvironmentVariable("DIFFLAB_CHANNELS_LAST"))
        {
            case "1": return new Choice(true, "DIFFLAB_CHANNELS_LAST=1");
            case "0": return new Choice(false, "DIFFLAB_CHANNELS_LAST=0");
        }
        if (!NativeRuntime.MkldnnEnabled) return new Choice(false, $"oneDNN is off: {NativeRuntime.MkldnnReason}");
        lock (Gate)
        {
            string file = CacheFile(), key = $"{MachineCache.MachineKey()}; {workload}";
            if (MachineCache.Read(file, key) is { } entry && entry.TryGetProperty("channels_last", out var cl) && cl.ValueKind is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False)
                return new Choice(cl.GetBoolean(), "measured earlier on this machine");
            var (nchw, nhwc) = Measure(runOnce);
            bool channelsLast = nhwc < nchw;
            MachineCache.Write(file, key, new Dictionary<string, object> { ["channels_last"] = channelsLast, ["nchw_s"] = nchw, ["channels_last_s"] = nhwc });
            return new Choice(channelsLast, string.Create(CultureInfo.InvariantCulture,
                $"measured now: NCHW {nchw:F3} s, channels-last {nhwc:F3} s per pass, fastest of {Rounds}"));
        }
    }

    /// <summary>
    /// The layout for <paramref name="network"/> (x, t → output) on inputs of <paramref name="shape"/> (timed on at most
    /// <see cref="MeasuredBatch"/> of them) in <paramref name="precision"/>, in training — a forward and backward pass — or
    /// in sampling — a forward pass: forced,
    /// known to this process, cached for this machine, or measured now (a few passes, once). The passes run on random
    /// inputs in eval mode, so dropout draws no random numbers and batch norms keep their statistics; the gradients they
    /// leave are cleared. A network that does not run its layers through <see cref="MixedPrecision.Call"/> has no choice.
    /// </summary>
    public static Choice ForNetwork(nn.Module<Tensor, Tensor, Tensor> network, long[] shape, bool training, string precision, Device device)
    {
        if (network is not IMixedPrecisionNetwork) return new Choice(NativeRuntime.ChannelsLast, $"{network.GetName()} has no layout choice");
        shape = [Math.Min(shape[0], MeasuredBatch), .. shape[1..]];
        long parameters = network.parameters().Sum(p => p.numel());
        string workload = $"{(training ? "training" : "sampling")} {network.GetType().Name} of {parameters} parameters on {string.Join("×", shape)}, {precision}";
        lock (Gate)
            if (Known.TryGetValue(workload, out var known)) return known;
        bool wasTraining = network.training;
        void RunOnce()
        {
            using var scope = torch.NewDisposeScope();
            var g = TensorOps.SeededGenerator(0);
            var x = (torch.rand(shape, generator: g) * 2 - 1).to(device);
            var t = torch.rand([shape[0]], generator: g).to(device);
            using var grad = torch.set_grad_enabled(training);
            Tensor y;
            using (MixedPrecision.Enter(precision, network)) y = network.call(x, t);
            if (training) y.square().mean().backward();
            else y.sum().item<float>(); // wait for the result (asynchronous devices)
        }
        try
        {
            network.eval();
            var choice = Choose(workload, RunOnce);
            lock (Gate) Known[workload] = choice;
            return choice;
        }
        finally
        {
            if (training) network.zero_grad();
            network.train(wasTraining);
        }
    }

    private static readonly Dictionary<string, Choice> Known = [];

    /// <summary>
    /// The largest batch the passes of <see cref="ForNetwork"/> run on: which layout wins depends on the layer shapes,
    /// not on how many images share them, while the cost of sixteen passes grows with the batch (sixteen training passes
    /// of the CS180 single-step U-Net at its batch of 256 took 4.4 minutes on one thread, a tenth of its whole training).
    /// Every batch of at least this size shares one decision.
    /// </summary>
    public const int MeasuredBatch = 32;

    /// <summary>
    /// The fastest of <paramref name="rounds"/> timings of <paramref name="runOnce"/> in NCHW and in channels-last,
    /// alternating, after <see cref="WarmUps"/> untimed passes of each (oneDNN creates its kernels, and the heap grows to
    /// the pass's size, on the first ones: the first NCHW pass of a guided 32×32 U-Net batch took 2.1 s, the next 1.4 s).
    /// The minimum, not the median: other work on the machine only ever adds time, so the fastest pass is the closest to
    /// what the layout itself costs (Python's timeit makes the same choice).
    /// </summary>
    public static (double Nchw, double ChannelsLast) Measure(Action runOnce, int rounds = Rounds)
    {
        double Time(bool channelsLast)
        {
            using var layout = Use(channelsLast);
            var clock = Stopwatch.StartNew();
            runOnce();
            return clock.Elapsed.TotalSeconds;
        }
        for (int w = 0; w < WarmUps; w++)
        {
            Time(false);
            Time(true);
        }
        double nchw = double.PositiveInfinity, nhwc = double.PositiveInfinity;
        for (int r = 0; r < rounds; r++)
        {
            nchw = Math.Min(nchw, Time(false));
            nhwc = Math.Min(nhwc, Time(true));
        }
        return (nchw, nhwc);
    }

    /// <summary>Untimed passes per layout before the timed rounds.</summary>
    public const int WarmUps = 3;

    internal static string CacheFile() => MachineCache.File("layouts.json");
}
