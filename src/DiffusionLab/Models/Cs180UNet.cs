using DiffusionLab.Runtime;
using TorchSharp.Modules;

namespace DiffusionLab.Models;

/// <summary>Which of the U-Nets of CS180 project 5 part B to build.</summary>
public enum Cs180Variant
{
    /// <summary>The single-step denoiser D_θ(z) of part 1 (no time input).</summary>
    Single,
    /// <summary>ε_θ(x_t, t) with t/T injected by FCBlocks (part 2.1).</summary>
    Time,
    /// <summary>ε_θ(x_t, t, c) with a one-hot class as well (part 2.4).</summary>
    Class,
}

/// <summary>Constructor arguments of <see cref="Cs180UNet"/>.</summary>
public sealed record Cs180UNetConfig(Cs180Variant Variant = Cs180Variant.Class, int InChannels = 1, int Hidden = 64, int ImageSize = 28, int NumClasses = 10);

/// <summary>
/// The U-Net of UC Berkeley CS180 project 5B (part B §1.1, §2.1, §2.4), operator for operator:
/// ConvBlock(C→D) → DownBlock(D→D) → DownBlock(D→2D) → Flatten (AvgPool(H/4) + GELU) → Unflatten (ConvTranspose(H/4, H/4, 0)
/// + BN + GELU) → cat(down2) → UpBlock(4D→D) → cat(down1) → UpBlock(2D→D) → cat(conv) → ConvBlock(2D→D) → Conv2d(D→C, 3, 1, 1).
/// Time (t/T, a [B, 1] scalar) enters through FCBlocks: unflatten ← c₁·unflatten + t₁ (2D channels) and
/// up1 ← c₂·up1 + t₂ (D channels), with c₁ = c₂ = 1 without classes. The class is a one-hot vector, all zero for
/// the null class. For 28 px this is the seed's 7×7 bottleneck; any size divisible by 4 works. Under bf16
/// <see cref="MixedPrecision"/> its convolutions and linear layers compute in bfloat16; the output is float32.
/// </summary>
public sealed class Cs180UNet : nn.Module<Tensor, Tensor, Tensor>, IClassConditionalNetwork, IMixedPrecisionNetwork
{
    private readonly Sequential conv_in, down1, down2, flatten, unflatten, up1, up2, conv_out;
    private readonly Conv2d head;
    private readonly Sequential? fc1_t, fc2_t, fc1_c, fc2_c;

    public Cs180UNetConfig Config { get; }
    public int NumClasses => Config.Variant == Cs180Variant.Class ? Config.NumClasses : 0;

    public Cs180UNet(Cs180UNetConfig config) : base(nameof(Cs180UNet))
    {
        if (config.ImageSize % 4 != 0 || config.ImageSize < 4)
            throw new DiffusionLabException($"the CS180 U-Net needs an image size divisible by 4, got {config.ImageSize}");
        if (config.Hidden < 1) throw new DiffusionLabException($"hidden channels must be positive, got {config.Hidden}");
        Config = config;
        int d = config.Hidden, c = config.InChannels, pool = config.ImageSize / 4;
        conv_in = ConvBlock(c, d);
        down1 = DownBlock(d, d);
        down2 = DownBlock(d, 2 * d);
        flatten = nn.Sequential(nn.AvgPool2d(pool), nn.GELU());                                   // (4) Flatten
        unflatten = nn.Sequential(nn.ConvTranspose2d(2 * d, 2 * d, pool, stride: pool, padding: 0), // (5) Unflatten
            nn.BatchNorm2d(2 * d), nn.GELU());
        up1 = UpBlock(4 * d, d);
        up2 = UpBlock(2 * d, d);
        conv_out = ConvBlock(2 * d, d);
        head = nn.Conv2d(d, c, 3, stride: 1, padding: 1);
        if (config.Variant != Cs180Variant.Single)
        {
            fc1_t = FcBlock(1, 2 * d);
            fc2_t = FcBlock(1, d);
        }
        if (config.Variant == Cs180Variant.Class)
        {
            if (config.NumClasses < 1) throw new DiffusionLabException("a class-conditioned U-Net needs at least one class");
            fc1_c = FcBlock(config.NumClasses, 2 * d);
            fc2_c = FcBlock(config.NumClasses, d);
        }
        RegisterComponents();
    }

    // (1) Conv: Conv2d(3, 1, 1) + BN + GELU; (7) ConvBlock: two Convs.
    private static Sequential ConvBlock(int cin, int cout) => nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride: 1, padding: 1), nn.BatchNorm2d(cout), nn.GELU(),
        nn.Conv2d(cout, cout, 3, stride: 1, padding: 1), nn.BatchNorm2d(cout), nn.GELU());

    // (2) DownConv: Conv2d(3, 2, 1) + BN + GELU; (8) DownBlock: DownConv + ConvBlock.
    private static Sequential DownBlock(int cin, int cout) => nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride: 2, padding: 1), nn.BatchNorm2d(cout), nn.GELU(), ConvBlock(cout, cout));

    // (3) UpConv: ConvTranspose2d(4, 2, 1) + BN + GELU; (9) UpBlock: UpConv + ConvBlock.
    private static Sequential UpBlock(int cin, int cout) => nn.Sequential(
        nn.ConvTranspose2d(cin, cout, 4, stride: 2, padding: 1), nn.BatchNorm2d(cout), nn.GELU(), ConvBlock(cout, cout));

    // FCBlock: Linear + GELU + Linear (CS180 project 5 part B §2.1).
    private static Sequential FcBlock(int fin, int fout) => nn.Sequential(nn.Linear(fin, fout), nn.GELU(), nn.Linear(fout, fout));

    /// <summary>
    /// Arithmetic of one image's forward pass, 2 operations per multiply–add, counting the convolutions, transposed
    /// convolutions and linear layers (norms, activations and pooling are a few per element and left out) — the
    /// work a benchmark divides by its time. A transposed convolution does C_in·C_out·k² multiply–adds per input pixel.
    /// </summary>
    public static double ForwardFlops(Cs180UNetConfig c)
    {
        double d = c.Hidden, ch = c.InChannels, s = c.ImageSize, pool = s / 4;
        static double Conv(double cin, double cout, double outSide) => 2 * cin * cout * 9 * outSide * outSide;
        static double Transposed(double cin, double cout, double k, double inSide) => 2 * cin * cout * k * k * inSide * inSide;
        static double Block(double cin, double cout, double side) => Conv(cin, cout, side) + Conv(cout, cout, side);
        static double Fc(double fin, double fout) => 2 * (fin * fout + fout * fout);
        double flops =
            Block(ch, d, s)                                                          // conv_in
            + Conv(d, d, s / 2) + Block(d, d, s / 2)                                 // down1
            + Conv(d, 2 * d, s / 4) + Block(2 * d, 2 * d, s / 4)                     // down2
            + Transposed(2 * d, 2 * d, pool, 1)                                      // unflatten: 1×1 → pool×pool
            + Transposed(4 * d, d, 4, s / 4) + Block(d, d, s / 2)                    // up1
            + Transposed(2 * d, d, 4, s / 2) + Block(d, d, s)                        // up2
            + Block(2 * d, d, s) + Conv(d, ch, s);                                   // conv_out, head
        if (c.Variant != Cs180Variant.Single) flops += Fc(1, 2 * d) + Fc(1, d);
        if (c.Variant == Cs180Variant.Class) flops += Fc(c.NumClasses, 2 * d) + Fc(c.NumClasses, d);
        return flops;
    }

    /// <summary>Unconditional: the single-step denoiser ignores <paramref name="t"/>; the class variant uses the null class.</summary>
    public override Tensor forward(Tensor x, Tensor t) => Run(x, t, null);

    public Tensor Forward(Tensor x, Tensor time, Tensor labels) => Run(x, time, labels);

    /// <summary>
    /// The class enters only after the bottleneck (CS180 project 5 part B §2.4: it scales unflatten and up1), so the encoder —
    /// a quarter of the forward FLOPs — runs once on x and its activations are shared by both label sets; only the
    /// decoder sees the doubled batch. Same result as the batched call (tested); in training mode BatchNorm's batch
    /// statistics would differ, so there it falls back to the batched call.
    /// </summary>
    public Tensor ForwardPair(Tensor x, Tensor time, Tensor labels, Tensor otherLabels)
    {
        if (training) return Run(torch.cat([x, x]), torch.cat([time, time]), torch.cat([labels, otherLabels]));
        using var scope = torch.NewDisposeScope();
        var (h0, h1, h2, u) = Encode(x);
        Tensor Twice(Tensor a) => torch.cat([a, a]);
        return Decode(Twice(h0), Twice(h1), Twice(h2), Twice(u), torch.cat([time, time]), torch.cat([labels, otherLabels]), 2 * x.shape[0], x.device, TensorOps.SideInputType(x))
            .MoveToOuterDisposeScope();
    }

    private (Tensor H0, Tensor H1, Tensor H2, Tensor U) Encode(Tensor x)
    {
        var h0 = MixedPrecision.Call(conv_in, x);
        var h1 = MixedPrecision.Call(down1, h0);
        var h2 = MixedPrecision.Call(down2, h1);
        return (h0, h1, h2, MixedPrecision.Call(unflatten, MixedPrecision.Call(flatten, h2)));
    }

    private Tensor Run(Tensor x, Tensor t, Tensor? labels)
    {
        using var scope = torch.NewDisposeScope();
        var (h0, h1, h2, u) = Encode(x);
        return Decode(h0, h1, h2, u, t, labels, x.shape[0], x.device, TensorOps.SideInputType(x)).MoveToOuterDisposeScope();
    }

    private Tensor Decode(Tensor h0, Tensor h1, Tensor h2, Tensor u, Tensor t, Tensor? labels, long batch, Device device, ScalarType inputType)
    {
        Tensor? t1 = null, t2 = null, c1 = null, c2 = null;
        if (fc1_t is not null)
        {
            var tt = t.to_type(inputType).reshape(-1, 1);
            t1 = MixedPrecision.Call(fc1_t, tt).unsqueeze(-1).unsqueeze(-1);
            t2 = MixedPrecision.Call(fc2_t!, tt).unsqueeze(-1).unsqueeze(-1);
        }
        if (fc1_c is not null)
        {
            var oneHot = OneHot(labels, batch, device, inputType);
            c1 = MixedPrecision.Call(fc1_c, oneHot).unsqueeze(-1).unsqueeze(-1);
            c2 = MixedPrecision.Call(fc2_c!, oneHot).unsqueeze(-1).unsqueeze(-1);
        }
        if (c1 is not null) u = c1 * u; // CS180 project 5 part B §2.4: unflatten = c1·unflatten + t1
        if (t1 is not null) u = u + t1;
        // each concatenation is disposed once its block has read it: the forward's dispose scope would keep them all
        // alive to its end (the largest, [B, 2D, H, W], is the size of two activations)
        Tensor Block(Sequential block, Tensor a, Tensor b)
        {
            using var joined = torch.cat([a, b], 1);
            return MixedPrecision.Call(block, joined);
        }
        var v1 = Block(up1, u, h2);
        if (c2 is not null) v1 = c2 * v1;
        if (t2 is not null) v1 = v1 + t2;
        var v2 = Block(up2, v1, h1);
        var o = Block(conv_out, v2, h0);
        return MixedPrecision.Output(MixedPrecision.Call(head, o));
    }

    private Tensor OneHot(Tensor? labels, long batch, Device device, ScalarType inputType)
    {
        if (labels is null) return torch.zeros(batch, Config.NumClasses, dtype: inputType, device: device);
        var l = labels.to_type(ScalarType.Int64);
        var valid = l.ge(0);
        var oneHot = nn.functional.one_hot(l.clamp_min(0), Config.NumClasses).to_type(inputType);
        return (oneHot * valid.unsqueeze(1).to_type(inputType)).to(device); // null label −1 → the zero vector
    }
}
