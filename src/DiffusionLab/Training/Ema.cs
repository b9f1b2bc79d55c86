using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Training;

/// <summary>
/// Exponential moving average of a network's weights, θ_ema ← d·θ_ema + (1 − d)·θ (Song &amp; Ermon 2020, §4.4),
/// held in a second instance of the same network so it can be saved and sampled like the original.
/// </summary>
public sealed class Ema(nn.Module target, nn.Module shadow, double decay)
{
    public nn.Module Shadow { get; } = Initialise(target, shadow);
    public double Decay { get; } = decay;

    private static nn.Module Initialise(nn.Module target, nn.Module shadow)
    {
        shadow.load_state_dict(target.state_dict());
        shadow.eval();
        foreach (var p in shadow.parameters()) p.requires_grad = false;
        return shadow;
    }

    public void Update()
    {
        using var _ = torch.no_grad();
        foreach (var (e, p) in Shadow.parameters().Zip(target.parameters()))
            e.mul_(Decay).add_(p.detach(), alpha: 1 - Decay);
        foreach (var (e, b) in Shadow.buffers().Zip(target.buffers()))
            e.copy_(b);
    }
}
