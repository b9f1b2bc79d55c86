using TorchSharp.Modules;

namespace DiffusionLab.Models;

/// <summary>Constructor arguments of <see cref="ToyMlp"/>, saved in a run folder to rebuild it. <c>OutputDim</c> null: the output
/// has the data's dimension (a denoiser); a Schrödinger bridge's network returns two vectors per point.</summary>
public sealed record ToyMlpConfig(int DataDim = 2, int Width = 128, int Depth = 4, int TimeDim = 128,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] int? OutputDim = null)
{
    /// <summary>The width of the output layer.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int Outputs => OutputDim ?? DataDim;
}

/// <summary>
/// A residual MLP for low-dimensional data: x → Linear → Depth × [h + Linear(SiLU(Linear(SiLU(h)) + W·emb(t)))]
/// → SiLU → Linear. The time enters every block through a learned projection of its sinusoidal embedding,
/// the way DDPM's U-Net conditions its residual blocks (Ho et al. 2020, App. B), on flat [B, D] data.
/// </summary>
public sealed class ToyMlp : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear input;
    private readonly Sequential time_mlp;
    private readonly ModuleList<ResidualBlock> blocks;
    private readonly Linear output;

    public ToyMlpConfig Config { get; }

    public ToyMlp(ToyMlpConfig config) : base(nameof(ToyMlp))
    {
        Config = config;
        input = nn.Linear(config.DataDim, config.Width);
        time_mlp = nn.Sequential(nn.Linear(config.TimeDim, config.Width), nn.SiLU(), nn.Linear(config.Width, config.Width));
        blocks = nn.ModuleList(Enumerable.Range(0, config.Depth).Select(_ => new ResidualBlock(config.Width)).ToArray());
        output = nn.Linear(config.Width, config.Outputs);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        var emb = time_mlp.call(SinusoidalTimeEmbedding.Embed(t, Config.TimeDim));
        var h = input.call(x);
        foreach (var block in blocks) h = block.call(h, emb);
        return output.call(nn.functional.silu(h)).MoveToOuterDisposeScope();
    }

    private sealed class ResidualBlock : nn.Module<Tensor, Tensor, Tensor>
    {
        private readonly Linear fc1, fc2, time;

        public ResidualBlock(int width) : base(nameof(ResidualBlock))
        {
            fc1 = nn.Linear(width, width);
            time = nn.Linear(width, width);
            fc2 = nn.Linear(width, width);
            RegisterComponents();
        }

        public override Tensor forward(Tensor h, Tensor emb) =>
            h + fc2.call(nn.functional.silu(fc1.call(nn.functional.silu(h)) + time.call(emb)));
    }
}
