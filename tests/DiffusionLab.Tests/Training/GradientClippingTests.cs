using DiffusionLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Training;

public class GradientClippingTests
{
    [Theory]
    [InlineData(0.5)]  // clipped
    [InlineData(1e6)]  // left alone
    public void ClipGradientNormMatchesLibTorchsClipGradNorm(double maxNorm)
    {
        // an independent implementation: libtorch's own clip_grad_norm_ on a copy of the same gradients
        using var scope = torch.NewDisposeScope();
        var g = new Generator(7);
        var a = nn.Linear(5, 4);
        var b = nn.Linear(5, 4);
        b.load_state_dict(a.state_dict());
        var x = torch.randn([16, 5], generator: g);
        a.call(x).square().sum().backward();
        b.call(x).square().sum().backward();
        var ours = a.parameters().ToList();
        var theirs = b.parameters().ToList();
        double expectedNorm = nn.utils.clip_grad_norm_(theirs, maxNorm);
        double norm = Trainer.ClipGradientNorm(ours, maxNorm).item<float>();
        Assert.Equal(expectedNorm, norm, 3);
        foreach (var (p, q) in ours.Zip(theirs))
            Assert.True((p.grad! - q.grad!).abs().max().item<float>() < 1e-5f);
        double after = Math.Sqrt(ours.Sum(p => p.grad!.square().sum().item<float>()));
        Assert.Equal(Math.Min(expectedNorm, maxNorm), after, 3);
    }
}
