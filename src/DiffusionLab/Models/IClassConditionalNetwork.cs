
namespace DiffusionLab.Models;

/// <summary>
/// A denoising network that also takes a class label. Its two-argument <c>forward(x, t)</c> is the unconditional
/// model; <see cref="Forward"/> takes labels [B] (int64), where <see cref="NullLabel"/> (−1) means "no class" —
/// the dropped condition of classifier-free guidance (Ho &amp; Salimans 2022, §3.2).
/// </summary>
public interface IClassConditionalNetwork
{
    public const long NullLabel = -1;

    int NumClasses { get; }

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
