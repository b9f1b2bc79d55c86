
namespace DiffusionLab.Models;

/// <summary>
/// A denoising network that also takes a condition. Its two-argument <c>forward(x, t)</c> is the unconditional model;
/// <see cref="Forward"/> takes class labels [B] (int64), where <see cref="NullLabel"/> (−1) means "no class" — the
/// dropped condition of classifier-free guidance (Ho &amp; Salimans 2022, §3.2) — or, for a text-conditioned network,
/// prompt token ids [B, L] or frozen prompt features [B, L, F], where the empty prompt is the dropped condition.
/// </summary>
public interface IClassConditionalNetwork
{
    public const long NullLabel = -1;

    /// <summary>
    /// The dropped condition shaped like <paramref name="condition"/>: −1 for class labels [B], the empty prompt
    /// [Start, Pad, …] for prompt tokens [B, L], no token at all (zeros) for frozen prompt features [B, L, F].
    /// </summary>
    public static Tensor NullCondition(Tensor condition)
    {
        if (condition.dim() == 1) return torch.full_like(condition, NullLabel);
        if (condition.dim() == 3) return torch.zeros_like(condition);
        var empty = torch.zeros_like(condition);
        empty[.., 0] = torch.tensor(TextEncoder.StartId);
        return empty;
    }

    /// <summary>Each row of <paramref name="condition"/> where <paramref name="drop"/> [B] holds, replaced by the dropped condition.</summary>
    public static Tensor Drop(Tensor condition, Tensor drop)
    {
        using var scope = torch.NewDisposeScope();
        var mask = drop.reshape([drop.shape[0], .. Enumerable.Repeat(1L, (int)condition.dim() - 1)]);
        return torch.where(mask, NullCondition(condition), condition).MoveToOuterDisposeScope();
    }

    int NumClasses { get; }

    /// <summary>Whether the network takes a condition at all (classes, or a prompt for a text-conditioned network).</summary>
    bool IsConditional => NumClasses > 0;

    Tensor Forward(Tensor x, Tensor time, Tensor labels);

    /// <summary>
    /// The outputs for the same x and time under two label sets, stacked [outputs under <paramref name="labels"/>;
    /// outputs under <paramref name="otherLabels"/>] — the conditional and unconditional passes of classifier-free
    /// guidance. By default one batched call on [x; x]; a network whose early layers ignore the class overrides it to
    /// run them once.
    /// </summary>
    Tensor ForwardPair(Tensor x, Tensor time, Tensor labels, Tensor otherLabels) =>
        Forward(torch.cat([x, x]), torch.cat([time, time]), torch.cat([labels, otherLabels]));
}
