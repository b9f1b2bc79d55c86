using DiffusionLab.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Models;

/// <summary>Both class-conditional U-Nets at toy size, in eval mode, each with a batch of 4 inputs (one with the null class).</summary>
internal static class SmallUNets
{
    public static IEnumerable<(nn.Module<Tensor, Tensor, Tensor> Net, IClassConditionalNetwork Conditional, Tensor X, Tensor T, Tensor Labels)> WithInputs(long seed)
    {
        torch.manual_seed(seed);
        var cs = new Cs180UNet(new Cs180UNetConfig(Cs180Variant.Class, 1, 16, 16, 4));
        var unet = new DdpmUNet(new DdpmUNetConfig { InChannels = 3, ImageSize = 8, Ch = 16, ChMult = [1, 2], NumResBlocks = 1, AttnResolutions = [4], Dropout = 0, NumClasses = 4 });
        foreach (var (net, c, size) in new (nn.Module<Tensor, Tensor, Tensor>, long, long)[] { (cs, 1, 16), (unet, 3, 8) })
        {
            net.eval();
            var x = torch.randn(4, c, size, size);
            var t = torch.tensor(new[] { 0.1f, 0.4f, 0.7f, 0.95f });
            var labels = torch.tensor(new long[] { 0, 1, 3, -1 });
            yield return (net, (IClassConditionalNetwork)net, x, t, labels);
        }
    }
}
