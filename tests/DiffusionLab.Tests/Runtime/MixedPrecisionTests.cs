using DiffusionLab.Denoisers;
using DiffusionLab.Models;
using DiffusionLab.Runtime;
using DiffusionLab.Training;
using DiffusionLab.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Runtime;

public class MixedPrecisionTests
{
    private static Tensor Rounded(Tensor t) => t.to_type(ScalarType.BFloat16).to_type(ScalarType.Float32);

    private static double RelativeError(Tensor a, Tensor b) =>
        (a.to_type(ScalarType.Float32) - b.to_type(ScalarType.Float32)).norm().item<float>() / b.to_type(ScalarType.Float32).norm().item<float>();

    /// <summary>
    /// Each lowered layer against the float32 operation on the bfloat16-rounded operands (autocast's definition), with the
    /// bound the arithmetic of the kernels in force gives. oneDNN (on where its start-up check passed) accumulates in float32
    /// and rounds once: |error| ≤ 2⁻⁸·|exact| + a few float32 ulps of the terms, elementwise. ATen's reference kernels (the
    /// path where oneDNN is off) and oneDNN's emulation on CPUs without bfloat16 instructions round more often — the GEMM
    /// result, the bias add and, for the transposed convolution, each of the (k/s)² = 4 overlapping column contributions —
    /// so m roundings bound the norm-wise error by m·2⁻⁸; there bf16 is declined for real runs
    /// (<see cref="MixedPrecision.Resolve"/>), and this test says so. Both bounds come from
    /// the rounding unit, not from one host. Run on: Intel family 6 model 207 with oneDNN on, with DIFFLAB_MKLDNN=0 (the
    /// ATen path an AMD family 26 CPU took) and with ONEDNN_MAX_CPU_ISA=AVX2 / AVX512_CORE (CPUs without AVX-512 BF16).
    /// </summary>
    [Fact]
    public void LayersComputeOnBFloat16OperandsWithFloat32Accumulation()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(0);
        var conv = nn.Conv2d(8, 16, 3, stride: 2, padding: 1);
        var transposed = nn.ConvTranspose2d(16, 8, 4, stride: 2, padding: 1);
        var linear = nn.Linear(32, 24);
        var image = torch.randn(4, 8, 12, 12);
        var small = torch.randn(4, 16, 6, 6);
        var vector = torch.randn(5, 32);
        // bf16 is used for real runs only on oneDNN's bfloat16 kernels (native, checked at start-up): one rounding there
        bool native = MixedPrecision.BFloat16Unavailable() is null && NativeRuntime.MkldnnSwitch();
        // the reference: the same operation in float32 on the operands rounded to bfloat16; the ATen path's rounding count
        var cases = new (nn.Module<Tensor, Tensor> Layer, Tensor Input, Func<Tensor> Reference, int AtenRoundings)[]
        {
            (conv, image, () => nn.functional.conv2d(Rounded(image), Rounded(conv.weight!), Rounded(conv.bias!), strides: [2, 2], padding: [1, 1]), 2),
            (transposed, small, () => nn.functional.conv_transpose2d(Rounded(small), Rounded(transposed.weight!), Rounded(transposed.bias!), strides: [2, 2], padding: [1, 1]), 6),
            (linear, vector, () => nn.functional.linear(Rounded(vector), Rounded(linear.weight!), Rounded(linear.bias!)), 2),
        };
        double u = Math.Pow(2, -8); // bfloat16's unit roundoff (8 significant bits)
        foreach (var (layer, input, reference, atenRoundings) in cases)
        {
            var plain = MixedPrecision.Call(layer, input);
            Assert.Equal(ScalarType.Float32, plain.dtype);
            // outside a scope: the module itself, on the process's convolution layout (channels-last where oneDNN is on)
            Assert.Equal(0, RelativeError(plain, layer.call(ConvolutionLayout.ChannelsLast ? MixedPrecision.ToChannelsLast(input) : input)));
            Tensor lowered;
            using (MixedPrecision.Enter("bf16")) lowered = MixedPrecision.Call(layer, input);
            Assert.Equal(ScalarType.BFloat16, lowered.dtype);
            Assert.Equal(plain.shape, lowered.shape);
            var exact = reference();
            if (native)
            {
                // one rounding of the float32 sum: elementwise, up to float32 ulps of the terms for the sums' order
                var error = (lowered.to_type(ScalarType.Float32) - exact).abs() - exact.abs() * u;
                float slack = 1e-5f * Math.Max(1f, exact.abs().max().item<float>());
                Assert.True(error.max().item<float>() <= slack, $"{layer.GetName()}: more than one bfloat16 rounding (excess {error.max().item<float>()})");
                // so the check can tell it apart from computing on the float32 operands and rounding only the result
                Assert.True((Rounded(plain) - exact).abs().max().item<float>() > (lowered.to_type(ScalarType.Float32) - exact).abs().max().item<float>());
            }
            else
            {
                double bound = atenRoundings * u;
                Assert.True(RelativeError(lowered, exact) < bound, $"{layer.GetName()} without native bf16 kernels: {RelativeError(lowered, exact)} ≥ {atenRoundings}·2⁻⁸");
                Assert.Equal("fp32", MixedPrecision.Resolve("bf16")); // and real runs decline this path
            }
        }
    }

    [Fact]
    public void Bf16IsDeclinedInOneLineWhereItWouldBeSlowerAndKeptWhereItIsNative()
    {
        var lines = new List<string>();
        string effective = MixedPrecision.Resolve("bf16", lines.Add);
        string? why = MixedPrecision.BFloat16Unavailable();
        if (why is null)
        {
            Assert.Equal("bf16", effective);
            Assert.Empty(lines);
            Assert.True(NativeRuntime.MkldnnSwitch());
            if (Environment.GetEnvironmentVariable("DIFFLAB_BF16") != "1") Assert.True(CpuInfo.Host.HasBFloat16Arithmetic);
        }
        else
        {
            Assert.Equal("fp32", effective);
            Assert.Equal($"bf16 declined: {why}; running fp32 instead (DIFFLAB_BF16=1 forces bf16)", Assert.Single(lines));
        }
        if (!NativeRuntime.MkldnnSwitch() && Environment.GetEnvironmentVariable("DIFFLAB_BF16") != "1") Assert.Contains("oneDNN is off", why);
        Assert.Equal("fp32", MixedPrecision.Resolve("fp32", lines.Add));
        Assert.Throws<DiffusionLabException>(() => MixedPrecision.Resolve("fp8"));
    }

    [Fact]
    public void SequentialsRunChildByChildAndNormsKeepFloat32Statistics()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        var block = nn.Sequential(nn.Conv2d(3, 8, 3, stride: 1, padding: 1), nn.BatchNorm2d(8), nn.GELU());
        block.train();
        var x = torch.randn(6, 3, 10, 10);
        Tensor y;
        using (MixedPrecision.Enter("bf16")) y = MixedPrecision.Call(block, x);
        Assert.Equal(ScalarType.BFloat16, y.dtype);
        var bn = (TorchSharp.Modules.BatchNorm2d)block.children().ElementAt(1);
        Assert.Equal(ScalarType.Float32, bn.running_mean!.dtype);
        Assert.True(bn.running_mean.abs().sum().item<float>() > 0); // the batch statistics were taken
        Assert.True(RelativeError(y, block.call(x)) < 2e-2);
    }

    [Fact]
    public void ScopesNestRestoreAndRejectUnknownNames()
    {
        Assert.Null(MixedPrecision.Active);
        using (MixedPrecision.Enter("bf16"))
        {
            Assert.Equal(ScalarType.BFloat16, MixedPrecision.Active);
            using (MixedPrecision.Enter("fp32")) Assert.Null(MixedPrecision.Active);
            Assert.Equal(ScalarType.BFloat16, MixedPrecision.Active);
            ScalarType? other = ScalarType.Float32;
            var t = new Thread(() => other = MixedPrecision.Active); // per thread, like autocast
            t.Start();
            t.Join();
            Assert.Null(other);
        }
        Assert.Null(MixedPrecision.Active);
        var e = Assert.Throws<DiffusionLabException>(() => MixedPrecision.Enter("fp16"));
        Assert.Contains("unknown precision 'fp16'", e.Message);
        Assert.Throws<DiffusionLabException>(() => new TrainingOptions { Precision = "half" }.Validate());
    }

    [Fact]
    public void BothUNetsMatchFloat32WithinBFloat16PrecisionAndReturnFloat32()
    {
        using var scope = torch.NewDisposeScope();
        foreach (var (net, conditional, x, t, labels) in SmallUNets.WithInputs(2))
        {
            var full = conditional.Forward(x, t, labels);
            Tensor mixed;
            using (MixedPrecision.Enter("bf16", net)) mixed = conditional.Forward(x, t, labels);
            Assert.Equal(ScalarType.Float32, mixed.dtype);
            double error = RelativeError(mixed, full);
            Assert.True(error is > 1e-4 and < 3e-2, $"{net.GetName()}: relative error {error}");
        }
    }

    [Fact]
    public void Bf16GradientsPointTheSameWayAndArriveInFloat32()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var net = new Cs180UNet(new Cs180UNetConfig(Cs180Variant.Class, 1, 16, 16, 4));
        using var model = new DiscreteModel(DiffusionLab.Schedules.NoiseSchedules.Create("linear", 100), new Denoiser(net, Parameterisation.Epsilon), CPU);
        var x = torch.rand(8, 1, 16, 16) * 2 - 1;
        var labels = torch.tensor(new long[] { 0, 1, 2, 3, 0, 1, 2, 3 });
        net.train();
        Tensor Gradients(string precision)
        {
            net.zero_grad();
            Tensor loss;
            using (MixedPrecision.Enter(precision, net)) loss = model.Loss(x, TensorOps.SeededGenerator(5), labels, 0);
            Assert.Equal(ScalarType.Float32, loss.dtype);
            loss.backward();
            Assert.All(net.parameters(), p => Assert.Equal(ScalarType.Float32, p.grad!.dtype));
            return torch.cat(net.parameters().Select(p => p.grad!.flatten()).ToArray()).clone();
        }
        var g32 = Gradients("fp32");
        var g16 = Gradients("bf16");
        double cosine = (g32 * g16).sum().item<float>() / (g32.norm().item<float>() * g16.norm().item<float>());
        Assert.True(cosine > 0.99, $"cosine {cosine}");
        Assert.True(RelativeError(g16, g32) is > 1e-4 and < 0.1, $"relative error {RelativeError(g16, g32)}");
    }

    [Fact]
    public void ANetworkThatDoesNotFollowThePolicyIsRefusedNotSilentlyRunInFloat32()
    {
        using var scope = torch.NewDisposeScope();
        var mlp = new ToyMlp(new ToyMlpConfig());
        var e = Assert.Throws<DiffusionLabException>(() => MixedPrecision.Enter("bf16", mlp));
        Assert.Contains("not supported", e.Message);
        using (MixedPrecision.Enter("fp32", mlp)) Assert.Null(MixedPrecision.Active);
        var dir = Path.Combine(Path.GetTempPath(), $"difflab-mp-{Guid.NewGuid():N}");
        try
        {
            Assert.Throws<DiffusionLabException>(() => Trainer.Train(mlp, null, _ => torch.zeros(1), new TrainingOptions { Steps = 1, EmaDecay = 0, Precision = "bf16" }, dir));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
