using static TorchSharp.torch;

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
}
