using DiffusionLab.Denoisers;
using DiffusionLab.Editing;
using DiffusionLab.Imaging;
using DiffusionLab.Samplers.Discrete;
using DiffusionLab.Schedules;
using TorchSharp;
using static TorchSharp.torch;
using S = DiffusionLab.Schedules.NoiseSchedules;

namespace DiffusionLab.Tests.Editing;

public class DenoisingComparisonTests
{
    /// <summary>A network that knows the clean image: its ε̂ = (x_t − √ᾱ_t x_0) / √(1 − ᾱ_t) is the true noise.</summary>
    private sealed class Oracle(Tensor clean, NoiseSchedule schedule) : nn.Module<Tensor, Tensor, Tensor>("oracle")
    {
        public override Tensor forward(Tensor x, Tensor t)
        {
            using var scope = torch.NewDisposeScope();
            var steps = (t * schedule.Steps).round().to_type(ScalarType.Int64);
            var table = schedule.TableTensor(schedule.SqrtAlphaBar);
            var sigmas = schedule.TableTensor(schedule.SqrtOneMinusAlphaBar);
            var a = table.index_select(0, steps).view(-1, 1, 1, 1).to_type(x.dtype);
            var s = sigmas.index_select(0, steps).view(-1, 1, 1, 1).to_type(x.dtype);
            return ((x - a * clean) / s).MoveToOuterDisposeScope();
        }
    }

    [Fact]
    public void WithAnExactNetworkOneStepAndIterativeDenoisingReturnTheOriginalAndTheBlurDoesNot()
    {
        using var scope = torch.NewDisposeScope();
        var schedule = S.Cosine(100);
        var clean = torch.rand([2, 3, 16, 16], generator: new Generator(4), dtype: ScalarType.Float64) * 1.8 - 0.9;
        using var oracle = new Oracle(clean, schedule);
        using var model = new DiscreteModel(schedule, new Denoiser(oracle, Parameterisation.Epsilon));
        var strided = StepGrid.Uniform(100, 10);
        var levels = DenoisingComparison.Run(model, clean, [25, 50, 75], strided, GaussianBlur.ScaledTo(16, DenoisingComparison.BlurSigmaAt64),
            TensorOps.SeededGenerator(0), clipX0: 1);
        foreach (var level in levels)
        {
            // x̂_0 = (x_t − σ ε̂)/α with the true ε is x_0 (float64: rounding only); DDPM's last step returns x̂_0 itself
            Assert.True((level.OneStep - clean).abs().max().item<double>() < 1e-9, $"one step at t = {level.Step}");
            Assert.True((level.Iterative - clean).abs().max().item<double>() < 1e-9, $"iterative at t = {level.Step}");
            var scores = level.Scores(clean);
            Assert.True(scores["one_step"].Psnr > 200, $"{scores["one_step"].Psnr} dB"); // equal up to float64 rounding
            Assert.True(scores["blur"].Psnr < 40 && scores["noisy"].Psnr < scores["blur"].Psnr + 20);
            level.Dispose();
        }
    }

    [Fact]
    public void IterativeDenoisingIsStridedDdpmSamplingFromTheNoisedImage()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        using var net = new DiffusionLab.Models.Cs180UNet(new DiffusionLab.Models.Cs180UNetConfig(DiffusionLab.Models.Cs180Variant.Time, 1, 8, 8, 0));
        net.eval();
        var schedule = S.Linear(60);
        using var model = new DiscreteModel(schedule, new Denoiser(net, Parameterisation.Epsilon));
        var image = torch.rand([2, 1, 8, 8], generator: new Generator(5)) * 2 - 1;
        var strided = StepGrid.Uniform(60, 12);
        int start = strided[0]; // i_start = 0: the noisiest strided step, where sampling starts
        var level = DenoisingComparison.Run(model, image, [start], strided, GaussianBlur.ScaledTo(8), TensorOps.SeededGenerator(9), clipX0: null)[0];
        // the same draws by hand: the shared noise first, then the sampler's
        var g = TensorOps.SeededGenerator(9);
        var eps = NoiseGenerator.RandnLike(image, g);
        var xt = ForwardProcess.Sample(schedule, image, start, eps);
        var sampled = new DdpmSampler().Sample(model, xt, strided, g).Samples;
        Assert.Equal(0f, (level.Iterative - sampled.clamp(-1, 1)).abs().max().item<float>());
        Assert.Equal(start, DenoisingComparison.IterativeGrid(start, strided)[0]);
        Assert.Equal(strided, DenoisingComparison.IterativeGrid(start, strided));
        Assert.Equal([40, .. strided.Where(s => s < 40)], DenoisingComparison.IterativeGrid(40, strided)); // off the grid: start at t, then the grid below
        level.Dispose();
    }

    [Fact]
    public void TheBlurBaselineScalesWithTheImage()
    {
        Assert.Equal(2.0, GaussianBlur.ScaledTo(64, DenoisingComparison.BlurSigmaAt64).Sigma);
        Assert.Equal(1.0, GaussianBlur.ScaledTo(32, DenoisingComparison.BlurSigmaAt64).Sigma);
        Assert.Equal(9, GaussianBlur.ScaledTo(32, DenoisingComparison.BlurSigmaAt64).KernelSize); // 2⌈4σ⌉ + 1
    }

    [Fact]
    public void ALevelOutsideTheScheduleIsRefused()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        using var net = new DiffusionLab.Models.Cs180UNet(new DiffusionLab.Models.Cs180UNetConfig(DiffusionLab.Models.Cs180Variant.Time, 1, 8, 8, 0));
        using var model = new DiscreteModel(S.Linear(60), new Denoiser(net, Parameterisation.Epsilon));
        var e = Assert.Throws<DiffusionLabException>(() => DenoisingComparison.Run(model, torch.zeros(1, 1, 8, 8), [61], StepGrid.Uniform(60, 12), GaussianBlur.ScaledTo(8), null, null));
        Assert.Contains("outside the schedule", e.Message);
    }
}
