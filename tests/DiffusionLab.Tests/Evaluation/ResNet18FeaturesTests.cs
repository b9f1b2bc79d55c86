using DiffusionLab.Cli;
using DiffusionLab.Evaluation;
using DiffusionLab.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Evaluation;

/// <summary>
/// The ImageNet feature network: that we feed its preprocessing graph what that graph expects (RGB planes in [0, 255]),
/// that the graph does what the CNTK ResNet-18 needs (BGR minus the ImageNet mean), and that the features behave.
/// </summary>
public class ResNet18FeaturesTests
{
    private const int Plane = ResNet18Features.InputSize * ResNet18Features.InputSize;

    [Fact]
    public void ImagesBecomeRgbPlanesFrom0To255At224()
    {
        using var scope = torch.NewDisposeScope();
        // a known input: a 32×32 RGB image of one colour, and a grey one
        var rgb = torch.stack([torch.full(32, 32, -1f), torch.full(32, 32, 0f), torch.full(32, 32, 1f)]).unsqueeze(0);
        var x = ResNet18Features.ToNetworkInput(rgb);
        Assert.Equal([1L, 3, 224, 224], x.shape);
        Assert.Equal(new[] { 0f, 127.5f, 255f }, Enumerable.Range(0, 3).Select(c => x[0, c].mean().item<float>()));
        Assert.Equal(0f, (x - x[.., .., 0..1, 0..1]).abs().max().item<float>()); // a flat image stays flat through the resize
        var grey = ResNet18Features.ToNetworkInput(torch.full(1, 1, 28, 28, 0.2f));
        Assert.Equal(3L, grey.shape[1]);
        Assert.Equal(0f, (grey - 0.6f * 255f).abs().max().item<float>(), 3); // (0.2 + 1) · 127.5, repeated to R, G, B
        // a horizontal ramp keeps its order and its ends: bilinear upsampling, not a crop or a flip
        var ramp = torch.linspace(-1, 1, 32).reshape(1, 1, 1, 32).expand(1, 3, 32, 32);
        var r = ResNet18Features.ToNetworkInput(ramp)[0, 0, 100];
        Assert.True((r[1..] - r[..^1]).min().item<float>() >= 0);
        Assert.Equal(0f, r[0].item<float>(), 3);
        Assert.Equal(255f, r[^1].item<float>(), 3);
        // larger than 224: averaged down (area), so a 2×2 checkerboard at 448 becomes flat grey
        var checker = (torch.arange(448).remainder(2).reshape(1, 448) + torch.arange(448).remainder(2).reshape(448, 1)).remainder(2) * 2 - 1;
        var down = ResNet18Features.ToNetworkInput(checker.to_type(ScalarType.Float32).reshape(1, 1, 448, 448));
        Assert.Equal(0f, (down - 127.5f).abs().max().item<float>(), 3);
    }

    [Fact]
    public void ThePreprocessingGraphTakesRgbAndGivesBgrMinusTheImageNetMean()
    {
        using var net = new ResNet18Features(threads: 1);
        var black = net.Preprocess(new float[3 * Plane]);
        var red = new float[3 * Plane];
        Array.Fill(red, 255f, 0, Plane); // channel 0 of the input is red
        var redOut = net.Preprocess(red);
        // linear, and the input's first plane lands in the output's last: R,G,B in → B,G,R out
        for (int c = 0; c < 3; c++)
        {
            var diff = Enumerable.Range(c * Plane, Plane).Select(i => redOut[i] - black[i]).ToArray();
            Assert.All(diff, d => Assert.Equal(c == 2 ? 255f : 0f, d, 3));
        }
        // black in → minus the mean image; averaged over the picture it is the ImageNet BGR mean of Caffe's
        // ilsvrc_2012_mean (104.0, 116.7, 122.7), up to the crop the mean image was taken at
        double[] caffeMean = [104.0, 116.7, 122.7];
        for (int c = 0; c < 3; c++)
            Assert.Equal(-caffeMean[c], black.Skip(c * Plane).Take(Plane).Average(v => (double)v), 1.5);
    }

    [Fact]
    public void FeaturesAreDeterministicPerImageAndSeeStructure()
    {
        using var scope = torch.NewDisposeScope();
        using var net = new ResNet18Features(threads: 1);
        var g = DiffusionLab.TensorOps.SeededGenerator(0);
        // three pictures: a disc, the same disc with faint noise, and stripes
        var yy = torch.arange(32).reshape(32, 1).to_type(ScalarType.Float32);
        var xx = torch.arange(32).reshape(1, 32).to_type(ScalarType.Float32);
        var disc = torch.where((yy - 16).square() + (xx - 16).square() < 100, 1f, -1f).expand(3, 32, 32);
        var noisy = (disc + 0.05f * torch.randn([3, 32, 32], generator: g)).clamp(-1, 1);
        var stripes = (xx.remainder(8) < 4).to_type(ScalarType.Float32).expand(3, 32, 32) * 2 - 1;
        var images = torch.stack([disc, noisy, stripes]);
        var f = net.Features(images);
        Assert.Equal([3L, ResNet18Features.FeatureCount], f.shape);
        Assert.Equal(ScalarType.Float64, f.dtype);
        Assert.True(f.min().item<double>() >= 0); // an average pool of ReLU outputs
        // an image's features do not depend on the batch it came in
        Assert.Equal(0, (net.Features(images[2..3]) - f[2..3]).abs().max().item<double>(), 6);
        double near = (f[0] - f[1]).norm().item<double>(), far = (f[0] - f[2]).norm().item<double>();
        Assert.True(near < far, $"disc vs noisy disc {near}, disc vs stripes {far}"); // the shape outweighs faint noise
    }

    [Fact]
    public void EvalFidOnResNet18FeaturesPrintsJsonWithTheFeatureName()
    {
        var dir = Directory.CreateTempSubdirectory("difflab-resnet").FullName;
        var g = DiffusionLab.TensorOps.SeededGenerator(1);
        using var images = torch.rand([6, 3, 16, 16], generator: g) * 2 - 1;
        for (int i = 0; i < 6; i++) ImageTensor.SavePng(images[i], Path.Combine(dir, $"{i:D3}.png"));
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(["eval", "fid", "--real", dir, "--fake", dir, "--features", "resnet18", "--json"], o, e);
        Assert.True(code == 0, e.ToString());
        foreach (var key in new[] { "\"fid\":", "\"n_real\":6", "\"n_fake\":6", "\"features\":\"ResNet-18 ImageNet features\"" })
            Assert.Contains(key, o.ToString());
        e = new StringWriter();
        Assert.Equal(CliApp.ExitUserError, CliApp.Run(["eval", "accuracy", "--fake", dir, "--features", "resnet18"], new StringWriter(), e));
        Assert.Contains("needs a classifier", e.ToString());
    }
}
