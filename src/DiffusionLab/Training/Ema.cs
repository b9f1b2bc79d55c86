
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

    /// <param name="updates">With <paramref name="warmup"/>: how many updates came before this one.</param>
    /// <param name="warmup">Use the decay min(d, (1 + n)/(10 + n)) (TensorFlow's ExponentialMovingAverage num_updates).</param>
    public void Update(long updates = 0, bool warmup = false)
    {
        using var _ = torch.no_grad();
        double d = warmup ? Math.Min(Decay, (1.0 + updates) / (10.0 + updates)) : Decay;
        foreach (var (e, p) in Shadow.parameters().Zip(target.parameters()))
            e.mul_(d).add_(p.detach(), alpha: 1 - d);
        foreach (var (e, b) in Shadow.buffers().Zip(target.buffers()))
            e.copy_(b);
    }
}
