using TorchSharp.Modules;

namespace DiffusionLab.Models;

/// <summary>Constructor arguments of <see cref="TimeLinearMlp"/>: hidden widths between the data dimension in and out.</summary>
public sealed record TimeLinearMlpConfig(int DataDim = 2, int[]? Hidden = null, int FrequencyDim = 256)
{
    public int[] HiddenWidths => Hidden ?? [128, 128, 128];
}

/// <summary>
/// The course assignments' 2-D network (the DDIM/CFG assignment's <c>SimpleNet</c>), kept for faithful reproduction: each hidden layer is a
/// "TimeLinear" — Linear(x) multiplied element-wise by a learned embedding of t (sinusoidal → Linear → SiLU →
/// Linear) — followed by SiLU; the last layer is a plain Linear.
/// </summary>
public sealed class TimeLinearMlp : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<TimeLinear> layers;
    private readonly Linear last;

    public TimeLinearMlpConfig Config { get; }

    public TimeLinearMlp(TimeLinearMlpConfig config) : base(nameof(TimeLinearMlp))
    {
        Config = config;
        var dims = new[] { config.DataDim }.Concat(config.HiddenWidths).ToArray();
        layers = nn.ModuleList(Enumerable.Range(0, dims.Length - 1).Select(i => new TimeLinear(dims[i], dims[i + 1], config.FrequencyDim)).ToArray());
        last = nn.Linear(dims[^1], config.DataDim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        var h = x;
        foreach (var layer in layers) h = nn.functional.silu(layer.call(h, t));
        return last.call(h).MoveToOuterDisposeScope();
    }

    private sealed class TimeLinear : nn.Module<Tensor, Tensor, Tensor>
    {
        private readonly Linear fc;
        private readonly Sequential time_embedding;
        private readonly int frequencyDim;

        public TimeLinear(int dimIn, int dimOut, int frequencyDim) : base(nameof(TimeLinear))
        {
            this.frequencyDim = frequencyDim;
            fc = nn.Linear(dimIn, dimOut);
            time_embedding = nn.Sequential(nn.Linear(frequencyDim, dimOut), nn.SiLU(), nn.Linear(dimOut, dimOut));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x, Tensor t) =>
            fc.call(x) * time_embedding.call(SinusoidalTimeEmbedding.Embed(t, frequencyDim));
    }
}
