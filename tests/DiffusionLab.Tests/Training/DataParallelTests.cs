using System.Diagnostics;
using DiffusionLab.Runs;
using DiffusionLab.Runtime;
using DiffusionLab.Tests.Runs;
using DiffusionLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Training;

/// <summary>
/// Data-parallel training: two MPI ranks with half a batch each train the model one process trains with the whole batch,
/// and stay bit-identical to each other. The MPI test runs Open MPI on loopback (mpirun --oversubscribe -np 2), skipped,
/// saying why, where openmpi-bin is not installed (.ci/run installs it).
/// </summary>
public class DataParallelTests
{
    /// <summary>N ranks as threads of this process: what MPI_Allreduce and MPI_Bcast do, on shared memory.</summary>
    private sealed class ThreadRanks(int rank, ThreadRanks.Shared shared) : ICommunicator
    {
        public sealed class Shared(int size)
        {
            public readonly int Size = size;
            public readonly Barrier Barrier = new(size);
            public readonly float[][] Buffers = new float[size][];
        }

        public int Rank => rank;
        public int Size => shared.Size;

        public void AllReduceSum(float[] buffer)
        {
            shared.Buffers[rank] = (float[])buffer.Clone();
            shared.Barrier.SignalAndWait();
            for (int i = 0; i < buffer.Length; i++)
            {
                float sum = 0;
                for (int r = 0; r < Size; r++) sum += shared.Buffers[r][i];
                buffer[i] = sum;
            }
            shared.Barrier.SignalAndWait();
        }

        public void Broadcast(float[] buffer, int root)
        {
            if (rank == root) shared.Buffers[root] = (float[])buffer.Clone();
            shared.Barrier.SignalAndWait();
            shared.Buffers[root].CopyTo(buffer, 0);
            shared.Barrier.SignalAndWait();
        }

        public void Barrier() => shared.Barrier.SignalAndWait();
    }

    [Fact]
    public void RanksAverageTheirGradientsAndNoticeWeightsThatDrifted()
    {
        var shared = new ThreadRanks.Shared(2);
        var results = new (float[] Grad, double Loss, bool Stop, string? Error)[2];
        var threads = Enumerable.Range(0, 2).Select(r => new Thread(() =>
        {
            torch.manual_seed(r); // different weights on purpose: the broadcast must make them rank 0's
            using var net = nn.Linear(3, 2);
            var dp = new DataParallel(new ThreadRanks(r, shared));
            dp.StartFromRankZero(net, null);
            using var x = torch.full(4, 3, r + 1f); // rank 1 sees twice the input
            net.call(x).sum().backward();
            var (loss, stop) = dp.AverageGradients(net.parameters().ToList(), 1.0 + r, stop: r == 1);
            string? error = null;
            dp.CheckRanksAgree(net, 1); // identical weights: no error
            if (r == 1) using (torch.no_grad()) net.parameters().First().add_(1e-7f); // one rank drifts
            try { dp.CheckRanksAgree(net, 2); }
            catch (DiffusionLabException e) { error = e.Message; }
            results[r] = (net.parameters().First().grad!.data<float>().ToArray(), loss, stop, error);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        // d(sum of W x)/dW = [each row: sum over the batch of x] = 4·(r + 1) per entry: the mean over ranks is 6
        Assert.All(results, r => Assert.All(r.Grad, g => Assert.Equal(6f, g)));
        Assert.All(results, r => Assert.Equal(1.5, r.Loss));
        Assert.All(results, r => Assert.True(r.Stop)); // one rank asked: every rank stops
        Assert.All(results, r => Assert.Contains("weights of rank 1 differ from rank 0's", r.Error));
    }

    [Fact]
    public void ABatchThatDoesNotSplitEvenlyIsAClearError()
    {
        Assert.Equal((16, 16), DataParallel.Slice(32, 1, 2));
        var e = Assert.Throws<DiffusionLabException>(() => DataParallel.Slice(30, 0, 4));
        Assert.Contains("divisible by the number of ranks", e.Message);
    }

    private static bool MpirunPresent() => File.Exists("/usr/bin/mpirun");

    private static (int Code, string Output) Launch(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["OMP_NUM_THREADS"] = "1";
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.Result);
    }

    [SkippableFact]
    public void TwoMpiRanksWithHalfABatchTrainWhatOneRankTrainsWithTheWholeBatch()
    {
        Skip.IfNot(MpirunPresent(), "Open MPI is not installed (apt-get install openmpi-bin libopenmpi-dev; .ci/run installs it)");
        var program = Path.Combine(AppContext.BaseDirectory, "difflab.dll");
        var data = "folder:" + TinyData.RgbFolder(perClass: 16, size: 8);
        // the attention U-Net (GroupNorm: per sample, unlike BatchNorm), flips, label dropout and EMA on; dropout off,
        // since its masks are drawn per process
        string[] train = ["train", "--dataset", data, "--model", "unet", "--image-size", "8", "--ch", "8", "--ch-mult", "1,2", "--attn", "4",
            "--dropout", "0", "--flip", "--batch-size", "8", "--epochs", "2", "--diffusion-steps", "50", "--grid-every", "0", "--seed", "4", "--lr", "0.05"];
        var root = Directory.CreateTempSubdirectory("difflab-mpi").FullName;
        string one = Path.Combine(root, "one"), two = Path.Combine(root, "two");
        var (code, output) = Launch("dotnet", [program, .. train, "--out", one]);
        Assert.True(code == 0, output);
        (code, output) = Launch("/usr/bin/mpirun", ["--allow-run-as-root", "--oversubscribe", "-np", "2", "-x", "OMP_NUM_THREADS", "dotnet", program, .. train, "--out", two]);
        Assert.True(code == 0, output); // includes the ranks' bit-for-bit agreement, checked at every checkpoint
        Assert.Contains("data parallel over MPI: 2 ranks, 4 images of each batch of 8 per rank", output);
        Assert.Single(output.Split('\n'), l => l.StartsWith("trained in", StringComparison.Ordinal)); // rank 0 alone reports
        using var a = ImageRun.Load(one);
        using var b = ImageRun.Load(two);
        double worst = 0, scale = 0;
        foreach (var ((name, pa), (_, pb)) in a.Network.named_parameters().Zip(b.Network.named_parameters()))
        {
            worst = Math.Max(worst, (pa - pb).abs().max().item<float>());
            scale = Math.Max(scale, pa.abs().max().item<float>());
        }
        // the same updates up to float rounding (a mean of two half-batch means against one mean, summed in another
        // order). Adam divides each gradient by its own running size, so a rounding difference in a tiny gradient can
        // move its weight by a visible fraction of the step; but a wrong split — other noise for a slice, a rank left out
        // of the mean — moves weights by the whole distance Adam can take them, Σ lr_s. Hold the runs within 1 % of it.
        var training = ImageRun.ReadConfig(one).Training;
        double reach = Enumerable.Range(0, 8).Sum(step => training.LearningRateAt(step)); // 2 epochs × 4 steps
        Assert.True(worst < 0.01 * reach, $"largest weight difference {worst}, 1 % of Adam's reach {0.01 * reach} (largest weight {scale})");
        // the loss curves agree too, and resuming the two-rank run with one rank continues it
        var lossOne = File.ReadAllLines(Path.Combine(one, "loss.csv"));
        var lossTwo = File.ReadAllLines(Path.Combine(two, "loss.csv"));
        Assert.Equal(lossOne.Length, lossTwo.Length);
        (code, output) = Launch("dotnet", [program, .. train.Select(x => x == "2" ? "3" : x), "--out", two, "--resume"]);
        Assert.True(code == 0, output);
        Assert.Contains("epoch 3/3", output);
    }
}
