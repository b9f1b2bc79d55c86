using DiffusionLab.Models;
using TorchSharp;
using static TorchSharp.torch;
using DiffusionLab.Runtime;
using DiffusionLab.Tests.Models;

namespace DiffusionLab.Tests.Runtime;

public class ConvolutionLayoutTests
{
    /// <summary>A workload no other test or run has measured.</summary>
    private static string FreshWorkload() => $"test workload {Guid.NewGuid():N}";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheFasterLayoutWinsAndLaterAsksReadTheCacheWithoutMeasuring(bool channelsLastIsFaster)
    {
        NativeRuntime.Configure();
        string workload = FreshWorkload();
        int runs = 0;
        var choice = ConvolutionLayout.Choose(workload, () =>
        {
            runs++;
            // the slow layout takes 20 ms longer: far above timer resolution and scheduling noise on a quiet core
            Thread.Sleep(ConvolutionLayout.ChannelsLast == channelsLastIsFaster ? 2 : 22);
        });
        if (Environment.GetEnvironmentVariable("DIFFLAB_CHANNELS_LAST") is "0" or "1" || !NativeRuntime.MkldnnEnabled)
        {
            Assert.Equal(0, runs); // forced: nothing is measured
            return;
        }
        Assert.Equal(channelsLastIsFaster, choice.ChannelsLast);
        Assert.Equal(2 * (ConvolutionLayout.WarmUps + ConvolutionLayout.Rounds), runs); // the warm-ups and the rounds, per layout
        Assert.StartsWith("measured now", choice.Reason);
        var again = ConvolutionLayout.Choose(workload, () => throw new InvalidOperationException("measured twice"));
        Assert.Equal(channelsLastIsFaster, again.ChannelsLast);
        Assert.StartsWith("measured earlier", again.Reason);
    }

    [Fact]
    public void UseScopesNestAndRestoreTheProcessDefault()
    {
        NativeRuntime.Configure();
        Assert.Equal(NativeRuntime.ChannelsLast, ConvolutionLayout.ChannelsLast);
        using (ConvolutionLayout.Use(true))
        {
            Assert.True(ConvolutionLayout.ChannelsLast);
            using (ConvolutionLayout.Use(false)) Assert.False(ConvolutionLayout.ChannelsLast);
            Assert.True(ConvolutionLayout.ChannelsLast);
        }
        Assert.Equal(NativeRuntime.ChannelsLast, ConvolutionLayout.ChannelsLast);
    }

    [Fact]
    public void MeasuringOnANetworkLeavesItsWeightsStatisticsGradientsAndModeAsTheyWere()
    {
        using var scope = torch.NewDisposeScope();
        // an empty cache folder, so the passes really run (and a training pass has a backward)
        string? cache = Environment.GetEnvironmentVariable("DIFFLAB_CACHE");
        Environment.SetEnvironmentVariable("DIFFLAB_CACHE", Directory.CreateTempSubdirectory("difflab-layout-").FullName);
        try
        {
            foreach (var (net, _, x, _, _) in SmallUNets.WithInputs(11)) CheckUnchanged(net, x);
        }
        finally
        {
            Environment.SetEnvironmentVariable("DIFFLAB_CACHE", cache);
        }

        static void CheckUnchanged(nn.Module<Tensor, Tensor, Tensor> net, Tensor x)
        {
            net.train();
            var before = net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
            var choice = ConvolutionLayout.ForNetwork(net, [3, .. x.shape[1..]], training: true, "fp32", torch.CPU); // a batch no other test uses
            if (Environment.GetEnvironmentVariable("DIFFLAB_CHANNELS_LAST") is not ("0" or "1") && NativeRuntime.MkldnnEnabled)
                Assert.StartsWith("measured now", choice.Reason);
            Assert.True(net.training);
            foreach (var (name, value) in net.state_dict())
                Assert.True(value.eq(before[name]).all().item<bool>(), $"{net.GetName()}: {name} changed");
            foreach (var p in net.parameters())
                Assert.True(p.grad is null || p.grad.abs().max().item<float>() == 0, $"{net.GetName()}: a gradient was left behind");
        }
    }

    [Fact]
    public void ANetworkWithoutTheMixedPrecisionPolicyHasNoLayoutToChoose()
    {
        using var mlp = new ToyMlp(new ToyMlpConfig());
        var choice = ConvolutionLayout.ForNetwork(mlp, [4, 2], training: false, "fp32", torch.CPU);
        Assert.Equal(NativeRuntime.ChannelsLast, choice.ChannelsLast);
        Assert.Contains("no layout choice", choice.Reason);
    }
}
