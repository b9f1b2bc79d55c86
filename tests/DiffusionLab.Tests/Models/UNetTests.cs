using DiffusionLab.Runtime;
using DiffusionLab.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Models;

public class UNetTests
{
    [Theory]
    [InlineData(Cs180Variant.Single, 28)]
    [InlineData(Cs180Variant.Time, 28)]
    [InlineData(Cs180Variant.Class, 28)]
    [InlineData(Cs180Variant.Class, 32)]
    public void Cs180UNetKeepsTheImageShape(Cs180Variant variant, int size)
    {
        using var scope = torch.NewDisposeScope();
        var net = new Cs180UNet(new Cs180UNetConfig(variant, 1, 8, size, 10));
        var x = torch.randn(3, 1, size, size);
        var y = net.call(x, torch.rand(3));
        Assert.Equal(x.shape, y.shape);
        Assert.Throws<DiffusionLabException>(() => new Cs180UNet(new Cs180UNetConfig(variant, 1, 8, 30, 10)));
    }

    [Fact]
    public void Cs180SeedSizesGiveTheExpectedParameterCount()
    {
        // D = 64, class-conditioned, 28 px: count from the operator list of CS180 project 5 (conv weights + biases + BN affine).
        var net = new Cs180UNet(new Cs180UNetConfig(Cs180Variant.Class, 1, 64, 28, 10));
        long Conv(long i, long o, long k) => i * o * k * k + o;
        long Bn(long c) => 2 * c;
        long ConvBlock(long i, long o) => Conv(i, o, 3) + Bn(o) + Conv(o, o, 3) + Bn(o);
        long Fc(long i, long o) => i * o + o + o * o + o;
        long d = 64;
        long expected = ConvBlock(1, d) + (Conv(d, d, 3) + Bn(d) + ConvBlock(d, d)) + (Conv(d, 2 * d, 3) + Bn(2 * d) + ConvBlock(2 * d, 2 * d))
            + (Conv(2 * d, 2 * d, 7) + Bn(2 * d))                                        // Unflatten (ConvTranspose has the same count)
            + (Conv(4 * d, d, 4) + Bn(d) + ConvBlock(d, d)) + (Conv(2 * d, d, 4) + Bn(d) + ConvBlock(d, d))
            + ConvBlock(2 * d, d) + Conv(d, 1, 3)
            + Fc(1, 2 * d) + Fc(1, d) + Fc(10, 2 * d) + Fc(10, d);
        Assert.Equal(expected, net.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void TheNullClassIsTheUnconditionalModelAndLabelsMatter()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        var cs = new Cs180UNet(new Cs180UNetConfig(Cs180Variant.Class, 1, 8, 8, 4));
        var unet = new DdpmUNet(new DdpmUNetConfig { InChannels = 3, ImageSize = 8, Ch = 16, ChMult = [1, 2], NumResBlocks = 1, AttnResolutions = [4], Dropout = 0, NumClasses = 4 });
        cs.eval();
        unet.eval();
        foreach (var (net, c) in new (nn.Module<Tensor, Tensor, Tensor>, long)[] { (cs, 1), (unet, 3) })
        {
            var x = torch.randn(2, c, 8, 8);
            var t = torch.tensor(new[] { 0.3f, 0.7f });
            var conditional = (IClassConditionalNetwork)net;
            var uncond = net.call(x, t);
            var viaNull = conditional.Forward(x, t, torch.tensor(new long[] { -1, -1 }));
            var class0 = conditional.Forward(x, t, torch.tensor(new long[] { 0, 0 }));
            var class2 = conditional.Forward(x, t, torch.tensor(new long[] { 2, 2 }));
            Assert.Equal(x.shape, uncond.shape);
            Assert.True((uncond - viaNull).abs().max().item<float>() < 1e-6);
            Assert.False(uncond.isnan().any().item<bool>());
            // the class changes the output (by far more than float32 rounding, ~1e-9 at these output sizes)
            Assert.True((class0 - class2).abs().max().item<float>() > 1e-6, $"{net.GetType().Name}: class 0 vs 2 {(class0 - class2).abs().max().item<float>()}");
            Assert.True((class0 - uncond).abs().max().item<float>() > 1e-7, $"{net.GetType().Name}: class 0 vs none {(class0 - uncond).abs().max().item<float>()}");
        }
    }

    [Fact]
    public void GroupNormsStartAsTheIdentityAffineMap()
    {
        for (int k = 0; k < 8; k++) torch.full(new long[] { 1 << 16 }, float.NaN).Dispose(); // a dirty heap
        var net = new DdpmUNet(new DdpmUNetConfig { InChannels = 3, ImageSize = 8, Ch = 16, ChMult = [1, 2], NumResBlocks = 1, AttnResolutions = [4] });
        foreach (var (name, p) in net.named_parameters().Where(p => p.name.Contains("norm")))
            Assert.All(p.data<float>().ToArray(), v => Assert.Equal(name.EndsWith("weight") ? 1f : 0f, v));
    }

    [Fact]
    public void DdpmUNetHandlesSeveralLevelsAndRejectsBadSizes()
    {
        using var scope = torch.NewDisposeScope();
        var net = new DdpmUNet(new DdpmUNetConfig { InChannels = 3, ImageSize = 16, Ch = 8, ChMult = [1, 2, 2], NumResBlocks = 2, AttnResolutions = [8, 4], Dropout = 0.1 });
        var x = torch.randn(2, 3, 16, 16);
        Assert.Equal(x.shape, net.call(x, torch.rand(2)).shape);
        Assert.Throws<DiffusionLabException>(() => new DdpmUNet(new DdpmUNetConfig { ImageSize = 18, ChMult = [1, 2, 2] }));
    }

    [Fact]
    public void DdpmUNetFreesEachActivationOnceTheNextLayerHasReadIt()
    {
        // PyTorch frees an activation when its last reader is done; a TorchSharp dispose scope would keep every one to
        // the end of the pass. Counted at every convolution of an inference pass: the live tensors must be the skips the
        // up path still needs plus a bounded handful (the block's input and current map, the time embedding and its
        // projection, a layout or cast copy), however deep the network — not a number that grows with every layer run.
        using var scope = torch.NewDisposeScope();
        var config = new DdpmUNetConfig { InChannels = 3, ImageSize = 16, Ch = 8, ChMult = [1, 2, 2], NumResBlocks = 2, AttnResolutions = [8, 4], Dropout = 0.1, NumClasses = 3 };
        var net = new DdpmUNet(config);
        net.eval();
        var x = torch.randn(2, 3, 16, 16);
        var t = torch.rand(2);
        var labels = torch.tensor(new long[] { 0, 2 });
        var trace = new List<long>(); // live tensors at each convolution
        foreach (var (_, module) in net.named_modules())
            if (module is TorchSharp.Modules.Conv2d conv)
                conv.register_forward_hook((m, input, output) =>
                {
                    trace.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
                    return output;
                });
        using var noGrad = torch.no_grad();
        using var unpadded = MixedPrecision.Unpadded(); // the image layers as their modules, so that their hooks run
        using var y = net.Forward(x, t, labels);
        int skips = 1 + config.ChMult.Length * config.NumResBlocks + (config.ChMult.Length - 1); // conv_in, each block, each downsample
        Assert.True(trace.Count > 40, $"{trace.Count} convolutions ran");
        long growth = trace.Max() - trace[0]; // from the first convolution on: the embeddings' small tensors are made by then
        Assert.True(growth <= skips + 12, $"{growth} more tensors alive at once than at the first convolution, in a pass that keeps {skips} skips ({string.Join(",", trace)})");
    }

    [Theory]
    [InlineData(Cs180Variant.Class, 64, 28)]
    [InlineData(Cs180Variant.Time, 16, 32)]
    [InlineData(Cs180Variant.Single, 8, 28)]
    public void Cs180ForwardFlopsMatchACountOfEveryLayerItRan(Cs180Variant variant, int hidden, int size)
    {
        // An independent count: hooks on every convolution, transposed convolution and linear layer record the shapes
        // they actually saw in a forward pass; 2 operations per multiply–add.
        using var scope = torch.NewDisposeScope();
        var config = new Cs180UNetConfig(variant, 1, hidden, size, 10);
        var net = new Cs180UNet(config);
        var counter = HookConvolutionsAndLinearLayers(net);
        foreach (var (_, module) in net.named_modules())
        {
            switch (module)
            {
                case TorchSharp.Modules.ConvTranspose2d transposed:
                    transposed.register_forward_hook((m, input, output) =>
                    {
                        var w = transposed.weight!.shape; // [in, out, k, k]: every input pixel feeds in·out·k² products
                        counter.Flops += 2.0 * w[0] * w[1] * w[2] * w[3] * (input.numel() / w[0]);
                        return output;
                    });
                    break;
            }
        }
        using var noGrad = torch.no_grad();
        using var unpadded = MixedPrecision.Unpadded(); // the image layers as their modules, so that their hooks count them
        net.eval();
        if (variant == Cs180Variant.Class) net.Forward(torch.randn(1, 1, size, size), torch.rand(1), torch.tensor(new long[] { 3 }));
        else net.call(torch.randn(1, 1, size, size), torch.rand(1));
        Assert.True(counter.Flops > 0);
        Assert.Equal(counter.Flops, Cs180UNet.ForwardFlops(config), 6);
    }

    private sealed class FlopCounter { public double Flops; }

    /// <summary>Hooks on every convolution and linear layer of <paramref name="net"/> add the operations of the shapes
    /// they see in a forward pass (2 per multiply–add) to the returned counter.</summary>
    private static FlopCounter HookConvolutionsAndLinearLayers(nn.Module net)
    {
        var counter = new FlopCounter();
        foreach (var (_, module) in net.named_modules())
        {
            switch (module)
            {
                case TorchSharp.Modules.Conv2d conv:
                    conv.register_forward_hook((m, input, output) =>
                    {
                        var w = conv.weight!.shape; // [out, in, k, k]
                        counter.Flops += 2.0 * w[1] * w[2] * w[3] * output.numel();
                        return output;
                    });
                    break;
                case TorchSharp.Modules.Linear linear:
                    linear.register_forward_hook((m, input, output) =>
                    {
                        counter.Flops += 2.0 * linear.weight!.shape[1] * output.numel();
                        return output;
                    });
                    break;
            }
        }
        return counter;
    }

    [Theory]
    [InlineData("preset")] // the unet preset as `difflab train --dataset emoji --model unet` builds it (the bench's train-unet32)
    [InlineData("small")]  // unconditional, one channel, attention at two resolutions, a level that keeps the width
    public void DdpmForwardFlopsMatchACountOfEveryLayerItRan(string which)
    {
        var config = which == "preset"
            ? new DdpmUNetConfig { InChannels = 3, ImageSize = 32, Ch = 64, ChMult = [1, 2, 2], NumResBlocks = 2, AttnResolutions = [8], NumClasses = 9 }
            : new DdpmUNetConfig { InChannels = 1, ImageSize = 16, Ch = 8, ChMult = [1, 1, 2], NumResBlocks = 1, AttnResolutions = [16, 4], Dropout = 0 };
        // An independent count: hooks on every convolution and linear layer record the shapes they actually saw in a
        // forward pass, and hooks on every self-attention block add its two products, QKᵀ and weights·V, from the shape
        // of the feature map it received (2·C·(HW)² each); 2 operations per multiply–add.
        using var scope = torch.NewDisposeScope();
        var net = new DdpmUNet(config);
        var counter = HookConvolutionsAndLinearLayers(net);
        int attentionBlocks = 0;
        foreach (var (name, module) in net.named_modules())
        {
            switch (module)
            {
                case nn.Module<Tensor, Tensor> attention when name.EndsWith("attn", StringComparison.Ordinal):
                    attentionBlocks++;
                    attention.register_forward_hook((m, input, output) =>
                    {
                        double positions = input.shape[2] * input.shape[3];
                        counter.Flops += 2 * 2.0 * input.shape[0] * input.shape[1] * positions * positions;
                        return output;
                    });
                    break;
            }
        }
        // attention after each residual block at an attention resolution, down and up, and the middle block's
        int levels = config.ChMult.Length, expectedBlocks = 1;
        for (int level = 0; level < levels; level++)
            if (config.AttnResolutions.Contains(config.ImageSize >> level)) expectedBlocks += 2 * config.NumResBlocks + 1;
        Assert.Equal(expectedBlocks, attentionBlocks);
        using var noGrad = torch.no_grad();
        using var unpadded = MixedPrecision.Unpadded(); // the image layers as their modules, so that their hooks count them
        net.eval();
        var x = torch.randn(1, config.InChannels, config.ImageSize, config.ImageSize);
        if (config.NumClasses > 0) net.Forward(x, torch.rand(1), torch.tensor(new long[] { 3 }));
        else net.call(x, torch.rand(1));
        Assert.True(counter.Flops > 0);
        Assert.Equal(counter.Flops, DdpmUNet.ForwardFlops(config), 6);
        // the figure benchmarks/peers/torch_bench.py computes (and counts by its own hooks) for the same network
        if (which == "preset") Assert.Equal(2_891_776_000, DdpmUNet.ForwardFlops(config), 6);
    }

    [Fact]
    public void DdpmUNetPresetForEmojiHasTheParameterCountThePyTorchPeerAsserts()
    {
        // benchmarks/peers/torch_bench.py writes this network out in PyTorch and asserts the same count; the bench's
        // train-unet32 and `difflab train --dataset emoji --model unet` build the same network.
        var preset = DiffusionLab.Runs.ImageRunConfig.Preset("unet") with { ClassNames = DiffusionLab.Data.EmojiDataset.ClassNames };
        using var net = DiffusionLab.Runs.ImageRun.BuildNetwork(preset);
        Assert.Equal(9, preset.NumClasses);
        Assert.Equal(6_474_755, net.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void Cs180ForwardPairSharesTheEncoderAndEqualsTheBatchedCall()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var net = new Cs180UNet(new Cs180UNetConfig(Cs180Variant.Class, 1, 16, 28, 10));
        // a few training steps' worth of BatchNorm statistics, so eval mode uses non-trivial running stats
        using (torch.no_grad()) for (int i = 0; i < 3; i++) net.Forward(torch.randn(8, 1, 28, 28), torch.rand(8), torch.randint(0, 10, [8]));
        net.eval();
        var x = torch.randn(5, 1, 28, 28);
        var t = torch.rand(5);
        var labels = torch.tensor(new long[] { 0, 3, 9, -1, 4 });
        var nulls = torch.full_like(labels, IClassConditionalNetwork.NullLabel);
        using var noGrad = torch.no_grad();
        var pair = net.ForwardPair(x, t, labels, nulls);
        var batched = net.Forward(torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, nulls]));
        Assert.Equal(new long[] { 10, 1, 28, 28 }, pair.shape);
        Assert.True((pair - batched).abs().max().item<float>() < 1e-5f);
        // the interface's default (any conditional network) is the batched call itself
        IClassConditionalNetwork plain = new DdpmUNet(new DdpmUNetConfig { InChannels = 1, ImageSize = 16, Ch = 8, ChMult = [1, 2], NumResBlocks = 1, AttnResolutions = [], Dropout = 0, NumClasses = 3 });
        ((TorchSharp.torch.nn.Module)plain).eval();
        var y = torch.randn(2, 1, 16, 16);
        var tt = torch.rand(2);
        var l = torch.tensor(new long[] { 1, 2 });
        Assert.True((plain.ForwardPair(y, tt, l, torch.full_like(l, -1)) - plain.Forward(torch.cat([y, y]), torch.cat([tt, tt]), torch.tensor(new long[] { 1, 2, -1, -1 }))).abs().max().item<float>() < 1e-5f);
    }
}
