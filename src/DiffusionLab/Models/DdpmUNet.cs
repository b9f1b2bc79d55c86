using DiffusionLab.Runtime;
using TorchSharp.Modules;

namespace DiffusionLab.Models;

/// <summary>Constructor arguments of <see cref="DdpmUNet"/> (the names of the DDPM / diffusers configs).</summary>
public sealed record DdpmUNetConfig
{
    public int InChannels { get; init; } = 3;
    public int ImageSize { get; init; } = 32;
    /// <summary>Base channel count.</summary>
    public int Ch { get; init; } = 64;
    /// <summary>Channel multiplier per resolution level; the image is halved between levels.</summary>
    public int[] ChMult { get; init; } = [1, 2, 2];
    public int NumResBlocks { get; init; } = 2;
    /// <summary>Resolutions (in pixels) with a self-attention block after each residual block.</summary>
    public int[] AttnResolutions { get; init; } = [8];
    public double Dropout { get; init; } = 0.1;
    /// <summary>Number of classes for a class embedding (0 = unconditional). The null label uses an extra embedding row.</summary>
    public int NumClasses { get; init; }
    /// <summary>A prompt encoder for text conditioning (null: none): the condition is then prompt token ids [B, L]. Absent
    /// from the JSON when null, so the run folders of earlier class-conditional models still resume.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public TextEncoderConfig? Text { get; init; }
}

/// <summary>
/// The DDPM U-Net (Ho et al. 2020, App. B; the PixelCNN++-style backbone): residual blocks with GroupNorm and SiLU
/// whose time embedding (sinusoidal → MLP) is added after the first convolution, self-attention at chosen
/// resolutions, strided-conv downsampling and nearest-neighbour + conv upsampling, skip connections from every
/// down block. A class embedding is added to the time embedding (as in Dhariwal &amp; Nichol 2021 and Ho &amp;
/// Salimans 2022); label −1 uses a learned null embedding for classifier-free guidance. Under bf16
/// <see cref="MixedPrecision"/> its convolutions, linear layers and attention products compute in bfloat16 (the
/// softmax in float32, as autocast does); the output is float32.
/// <para>
/// With a <see cref="TextEncoderConfig"/> the condition is a prompt instead (<see cref="TextEncoder"/>): its pooled
/// features join the time embedding and cross-attention reads its tokens. With <see cref="TextEncoderConfig.Categories"/>
/// a frozen <see cref="PromptCategoryPrior"/> also reads the prompt's category, and the class embedding rows weighted by
/// its probabilities join the time embedding too (the null row for the empty prompt).
/// </para>
/// </summary>
public sealed class DdpmUNet : nn.Module<Tensor, Tensor, Tensor>, IClassConditionalNetwork, IMixedPrecisionNetwork
{
    private readonly Sequential time_mlp;
    private readonly Embedding? class_emb;
    private readonly Conv2d conv_in, conv_out;
    private readonly ModuleList<nn.Module<Tensor, Tensor, Tensor>> down, up;
    private readonly ResBlock mid1, mid2;
    private readonly AttnBlock mid_attn;
    private readonly GroupNorm norm_out;
    private readonly TextEncoder? text_encoder;
    private readonly Linear? text_proj;
    private readonly PromptCategoryPrior? prompt_prior;
    private readonly CrossAttnBlock? mid_cross;
    private readonly TextContext _text = new();
    private readonly List<int> _upKinds = new(); // 0 = res(+attn) taking a skip, 1 = resample

    public DdpmUNetConfig Config { get; }
    public int NumClasses => Config.NumClasses;

    public DdpmUNet(DdpmUNetConfig config) : base(nameof(DdpmUNet))
    {
        Config = config;
        if (config.Ch < 1 || config.ChMult.Length == 0 || config.NumResBlocks < 1)
            throw new DiffusionLabException("the U-Net needs ch ≥ 1, at least one ch_mult level and num_res_blocks ≥ 1");
        int levels = config.ChMult.Length;
        if (config.ImageSize % (1 << (levels - 1)) != 0)
            throw new DiffusionLabException($"image size {config.ImageSize} cannot be halved {levels - 1} times (ch_mult has {levels} levels)");
        int temb = config.Ch * 4;
        time_mlp = nn.Sequential(nn.Linear(config.Ch, temb), nn.SiLU(), nn.Linear(temb, temb));
        if (config.NumClasses > 0 && config.Text is not null) throw new DiffusionLabException("a U-Net is conditioned on classes or on text, not both");
        if (config.NumClasses > 0) class_emb = nn.Embedding(config.NumClasses + 1, temb);
        if (config.Text is not null)
        {
            text_encoder = new TextEncoder(config.Text);
            text_proj = nn.Linear(config.Text.Width, temb);
            if (config.Text.Categories > 0)
            {
                if (config.Text.Frozen is null) throw new DiffusionLabException("a prompt-category prior reads a frozen encoder's features: give the text encoder a `Frozen` encoder");
                prompt_prior = new PromptCategoryPrior(config.Text.Categories);
                class_emb = nn.Embedding(config.Text.Categories + 1, temb); // the class model's rows (its last is the null class)
            }
        }
        int textWidth = config.Text?.Width ?? 0;
        conv_in = nn.Conv2d(config.InChannels, config.Ch, 3, padding: 1);

        var downs = new List<nn.Module<Tensor, Tensor, Tensor>>();
        var skips = new List<int> { config.Ch };
        int ch = config.Ch, res = config.ImageSize;
        for (int level = 0; level < levels; level++)
        {
            int outCh = config.Ch * config.ChMult[level];
            for (int i = 0; i < config.NumResBlocks; i++)
            {
                downs.Add(new ResBlock(ch, outCh, temb, config.Dropout, config.AttnResolutions.Contains(res), textWidth, _text));
                ch = outCh;
                skips.Add(ch);
            }
            if (level != levels - 1)
            {
                downs.Add(new Resample(ch, down: true));
                skips.Add(ch);
                res /= 2;
            }
        }
        down = nn.ModuleList(downs.ToArray());
        mid1 = new ResBlock(ch, ch, temb, config.Dropout, attention: false);
        mid_attn = new AttnBlock(ch);
        if (textWidth > 0) mid_cross = new CrossAttnBlock(ch, textWidth, _text);
        mid2 = new ResBlock(ch, ch, temb, config.Dropout, attention: false);

        var ups = new List<nn.Module<Tensor, Tensor, Tensor>>();
        for (int level = levels - 1; level >= 0; level--)
        {
            int outCh = config.Ch * config.ChMult[level];
            for (int i = 0; i < config.NumResBlocks + 1; i++)
            {
                int skip = skips[^1];
                skips.RemoveAt(skips.Count - 1);
                ups.Add(new ResBlock(ch + skip, outCh, temb, config.Dropout, config.AttnResolutions.Contains(res), textWidth, _text));
                _upKinds.Add(0);
                ch = outCh;
            }
            if (level != 0)
            {
                ups.Add(new Resample(ch, down: false));
                _upKinds.Add(1);
                res *= 2;
            }
        }
        up = nn.ModuleList(ups.ToArray());
        norm_out = NewGroupNorm(ch);
        conv_out = nn.Conv2d(ch, config.InChannels, 3, padding: 1);
        RegisterComponents();
    }

    /// <summary>
    /// GroupNorm with the affine parameters initialised to γ = 1, β = 0 (Wu &amp; He 2018): TorchSharp 0.107's
    /// <c>nn.GroupNorm</c> leaves them uninitialised (whatever the allocator hands back, NaN included).
    /// </summary>
    internal static GroupNorm NewGroupNorm(int channels)
    {
        var norm = nn.GroupNorm(Groups(channels), channels);
        using var _ = torch.no_grad();
        norm.weight!.fill_(1);
        norm.bias!.zero_();
        return norm;
    }

    /// <summary>
    /// 32 groups as in DDPM, but at least two channels per group: with one channel per group the per-channel time and
    /// class shifts added before <c>norm2</c> would be normalised away.
    /// </summary>
    internal static int Groups(int channels)
    {
        int g = Math.Max(1, Math.Min(32, channels / 2));
        while (channels % g != 0) g--;
        return g;
    }

    /// <summary>
    /// Arithmetic of one image's forward pass, 2 operations per multiply–add, walking the layers the constructor builds:
    /// the convolutions (3×3, the strided downsampling, the 1×1 skips and attention projections), the linear layers (the
    /// time MLP and each residual block's time projection) and the two products of each self-attention block, QKᵀ and
    /// the weighted sum of V (2·C·(HW)² each). Normalisations, activations, the softmax, the nearest-neighbour upsampling
    /// and the class-embedding lookup are not counted.
    /// </summary>
    public static double ForwardFlops(DdpmUNetConfig c)
    {
        static double Conv(double cin, double cout, double k, double outSide) => 2 * cin * cout * k * k * outSide * outSide;
        static double Linear(double fin, double fout) => 2 * fin * fout;
        static double Attention(double ch, double side) =>
            Conv(ch, 3 * ch, 1, side) + Conv(ch, ch, 1, side) + 2 * 2 * ch * Math.Pow(side * side, 2);
        double temb = 4 * c.Ch;
        double Res(double cin, double cout, int side) =>
            Conv(cin, cout, 3, side) + Linear(temb, cout) + Conv(cout, cout, 3, side) + (cin != cout ? Conv(cin, cout, 1, side) : 0)
            + (c.AttnResolutions.Contains(side) ? Attention(cout, side) : 0);
        int levels = c.ChMult.Length, res = c.ImageSize;
        double ch = c.Ch;
        double flops = Linear(c.Ch, temb) + Linear(temb, temb) + Conv(c.InChannels, c.Ch, 3, res);
        var skips = new Stack<double>();
        skips.Push(ch); // conv_in's output
        for (int level = 0; level < levels; level++)
        {
            for (int i = 0; i < c.NumResBlocks; i++)
            {
                flops += Res(ch, c.Ch * c.ChMult[level], res);
                ch = c.Ch * c.ChMult[level];
                skips.Push(ch);
            }
            if (level != levels - 1)
            {
                res /= 2;
                flops += Conv(ch, ch, 3, res); // stride 2: the output side is halved
                skips.Push(ch);
            }
        }
        flops += 2 * (Conv(ch, ch, 3, res) + Linear(temb, ch) + Conv(ch, ch, 3, res)) + Attention(ch, res); // mid1, mid_attn, mid2
        for (int level = levels - 1; level >= 0; level--)
        {
            for (int i = 0; i < c.NumResBlocks + 1; i++)
            {
                flops += Res(ch + skips.Pop(), c.Ch * c.ChMult[level], res);
                ch = c.Ch * c.ChMult[level];
            }
            if (level != 0)
            {
                res *= 2;
                flops += Conv(ch, ch, 3, res); // after the nearest-neighbour ×2
            }
        }
        return flops + Conv(ch, c.InChannels, 3, c.ImageSize);
    }

    public override Tensor forward(Tensor x, Tensor t) => Run(x, t, null);

    public Tensor Forward(Tensor x, Tensor time, Tensor labels) => Run(x, time, labels);

    private Tensor Run(Tensor x, Tensor t, Tensor? labels)
    {
        using var scope = torch.NewDisposeScope();
        var emb = MixedPrecision.Call(time_mlp, SinusoidalTimeEmbedding.Embed(t, Config.Ch));
        if (text_encoder is not null)
        {
            // the condition is the prompt (token ids [B, L] or frozen features [B, L, F]); none is the empty prompt (the
            // unconditional model)
            var prompt = labels ?? text_encoder.EmptyPrompts(x.shape[0], x.device);
            text_encoder.CheckCondition(prompt, x.shape[0]);
            var (tokens, pooled, padding) = text_encoder.call(prompt);
            emb = emb + MixedPrecision.Call(text_proj!, pooled); // the pooled prompt joins the time embedding, as GLIDE's does
            if (prompt_prior is not null) emb = emb + CategoryEmbedding(prompt).to_type(emb.dtype);
            _text.Set(tokens, padding);
        }
        try
        {
            return RunBlocks(x, emb, labels).MoveToOuterDisposeScope();
        }
        finally { _text.Clear(); }
    }

    /// <summary>
    /// The class embedding a prompt selects through the prompt-category prior: the rows of the categories weighted by
    /// their probabilities (the expected embedding under the prior), the null row for the empty prompt — so the dropped
    /// prompt is the class model's unconditional input as well.
    /// </summary>
    private Tensor CategoryEmbedding(Tensor prompt)
    {
        using var scope = torch.NewDisposeScope();
        var empty = PromptCategoryPrior.IsEmpty(prompt).unsqueeze(1).to_type(ScalarType.Float32);
        var weights = torch.cat([prompt_prior!.Probabilities(prompt) * (1 - empty), empty], 1); // [B, K + 1]
        return weights.matmul(class_emb!.weight!).MoveToOuterDisposeScope();
    }

    /// <summary>The prompt-category prior of a text model that has one (<see cref="TextEncoderConfig.Categories"/>), else null.</summary>
    public PromptCategoryPrior? PromptPrior => prompt_prior;

    /// <summary>The condition of <paramref name="batch"/> empty prompts (<see cref="TextEncoder.EmptyPrompts"/>).</summary>
    public Tensor EmptyPrompts(long batch, Device device) => text_encoder!.EmptyPrompts(batch, device);

    public bool IsTextConditional => text_encoder is not null;

    public bool IsConditional => NumClasses > 0 || IsTextConditional;

    private Tensor RunBlocks(Tensor x, Tensor emb, Tensor? labels)
    {
        if (class_emb is not null && NumClasses > 0)
        {
            var l = labels is null
                ? torch.full(x.shape[0], Config.NumClasses, dtype: ScalarType.Int64, device: x.device)
                : torch.where(labels.lt(0), torch.full_like(labels, Config.NumClasses), labels).to_type(ScalarType.Int64);
            emb = emb + class_emb.call(l);
        }
        var h = MixedPrecision.Call(conv_in, x);
        var hs = new List<Tensor> { h }; // the skips; everything else is freed as soon as the next layer has read it
        foreach (var block in down)
        {
            h = block.call(h, emb);
            hs.Add(h);
        }
        h = mid1.call(h, emb).Consume(mid_attn.call);
        if (mid_cross is not null) h = h.Consume(mid_cross.call);
        h = h.Consume(m => mid2.call(m, emb));
        int k = 0;
        foreach (var block in up)
        {
            if (_upKinds[k++] == 0)
            {
                var skip = hs[^1];
                hs.RemoveAt(hs.Count - 1);
                var joined = torch.cat([h, skip], 1);
                h.Dispose();
                skip.Dispose();
                h = joined.Consume(j => block.call(j, emb));
            }
            else h = h.Consume(u => block.call(u, emb));
        }
        return h.Consume(norm_out.call).Consume(a => nn.functional.silu(a)).Consume(a => MixedPrecision.Call(conv_out, a)).Consume(MixedPrecision.Output);
    }

    /// <summary>GroupNorm → SiLU → conv, + time projection, GroupNorm → SiLU → dropout → conv, with a 1×1 skip when channels change.</summary>
    private sealed class ResBlock : nn.Module<Tensor, Tensor, Tensor>
    {
        private readonly GroupNorm norm1, norm2;
        private readonly Conv2d conv1, conv2;
        private readonly Linear temb_proj;
        private readonly CounterHashDropout dropout;
        private readonly Conv2d? skip;
        private readonly AttnBlock? attn;
        private readonly CrossAttnBlock? cross;

        public ResBlock(int cin, int cout, int temb, double drop, bool attention, int textWidth = 0, TextContext? text = null) : base(nameof(ResBlock))
        {
            norm1 = NewGroupNorm(cin);
            conv1 = nn.Conv2d(cin, cout, 3, padding: 1);
            temb_proj = nn.Linear(temb, cout);
            norm2 = NewGroupNorm(cout);
            dropout = new CounterHashDropout(drop);
            conv2 = nn.Conv2d(cout, cout, 3, padding: 1);
            if (cin != cout) skip = nn.Conv2d(cin, cout, 1);
            if (attention) attn = new AttnBlock(cout);
            if (attention && textWidth > 0) cross = new CrossAttnBlock(cout, textWidth, text!);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x, Tensor emb)
        {
            using var scope = torch.NewDisposeScope(); // the small time projection; the maps are freed as they are read
            var h = norm1.call(x).Consume(a => nn.functional.silu(a)).Consume(a => MixedPrecision.Call(conv1, a));
            var time = MixedPrecision.Call(temb_proj, nn.functional.silu(emb)).unsqueeze(-1).unsqueeze(-1);
            h = h.Consume(a => a + time).Consume(norm2.call).Consume(a => nn.functional.silu(a)).Consume(dropout.call).Consume(a => MixedPrecision.Call(conv2, a));
            h = skip is null ? h.Consume(a => x + a) : h.Consume(a => MixedPrecision.Call(skip, x).Consume(s => s + a));
            if (attn is not null) h = h.Consume(attn.call);
            if (cross is not null) h = h.Consume(cross.call);
            return h.MoveToOuterDisposeScope();
        }
    }

    /// <summary>Single-head self-attention over the H·W positions with a residual connection (Ho et al. 2020, App. B).</summary>
    private sealed class AttnBlock : nn.Module<Tensor, Tensor>
    {
        private readonly GroupNorm norm;
        private readonly Conv2d qkv, proj;
        private readonly int _channels;

        public AttnBlock(int channels) : base(nameof(AttnBlock))
        {
            _channels = channels;
            norm = NewGroupNorm(channels);
            qkv = nn.Conv2d(channels, 3 * channels, 1);
            proj = nn.Conv2d(channels, channels, 1);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            long b = x.shape[0], h = x.shape[2], w = x.shape[3];
            using var scope = torch.NewDisposeScope(); // q, k and v are views of one projection, freed with the scope
            var parts = norm.call(x).Consume(a => MixedPrecision.Call(qkv, a)).Consume(a => a.reshape(b, 3, _channels, h * w)).unbind(1);
            var q = parts[0].transpose(1, 2); // [B, HW, C]
            var k = parts[1];                 // [B, C, HW]
            var v = parts[2].transpose(1, 2); // [B, HW, C]
            var o = Attention.Attend(q, k, v).Consume(a => a.transpose(1, 2)).Consume(a => a.reshape(b, _channels, h, w));
            return o.Consume(a => MixedPrecision.Call(proj, a)).Consume(a => x + a).MoveToOuterDisposeScope();
        }
    }

    /// <summary>The prompt's token features and padding mask for the cross-attention blocks, set for one forward pass.</summary>
    private sealed class TextContext
    {
        public Tensor? Tokens { get; private set; }
        public Tensor? Padding { get; private set; }

        public void Set(Tensor tokens, Tensor padding) => (Tokens, Padding) = (tokens, padding);

        public void Clear() => (Tokens, Padding) = (null, null);
    }

    /// <summary>
    /// Cross-attention from the image to the prompt (Rombach et al. 2022, §3.3; Saharia et al. 2022): queries from the
    /// normalised feature map, keys and values projected from the prompt's token features, padding masked out, the softmax
    /// in float32, a residual connection. Single-head, as the U-Net's self-attention.
    /// </summary>
    private sealed class CrossAttnBlock : nn.Module<Tensor, Tensor>
    {
        private readonly GroupNorm norm;
        private readonly Conv2d q, proj;
        private readonly Linear k, v;
        private readonly int _channels;
        private readonly TextContext _text;

        public CrossAttnBlock(int channels, int textWidth, TextContext text) : base(nameof(CrossAttnBlock))
        {
            _channels = channels;
            _text = text;
            norm = NewGroupNorm(channels);
            q = nn.Conv2d(channels, channels, 1);
            k = nn.Linear(textWidth, channels);
            v = nn.Linear(textWidth, channels);
            proj = nn.Conv2d(channels, channels, 1);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            if (_text.Tokens is not { } tokens) throw new InvalidOperationException("cross-attention ran outside a text-conditioned forward pass");
            long b = x.shape[0], h = x.shape[2], w = x.shape[3];
            using var scope = torch.NewDisposeScope();
            var query = norm.call(x).Consume(a => MixedPrecision.Call(q, a)).Consume(a => a.reshape(b, _channels, h * w)).transpose(1, 2); // [B, HW, C]
            var key = MixedPrecision.Call(k, tokens);   // [B, L, C]
            var value = MixedPrecision.Call(v, tokens); // [B, L, C]
            var o = Attention.Attend(query, key.transpose(1, 2), value, _text.Padding!.unsqueeze(1)).Consume(a => a.transpose(1, 2)).Consume(a => a.reshape(b, _channels, h, w));
            return o.Consume(a => MixedPrecision.Call(proj, a)).Consume(a => x + a).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Downsampling by a stride-2 conv, or upsampling by nearest-neighbour ×2 then a conv.</summary>
    private sealed class Resample : nn.Module<Tensor, Tensor, Tensor>
    {
        private readonly Conv2d conv;
        private readonly bool _down;

        public Resample(int channels, bool down) : base(nameof(Resample))
        {
            _down = down;
            conv = down ? nn.Conv2d(channels, channels, 3, stride: 2, padding: 1) : nn.Conv2d(channels, channels, 3, padding: 1);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x, Tensor emb) => _down
            ? MixedPrecision.Call(conv, x)
            : nn.functional.interpolate(x, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest).Consume(a => MixedPrecision.Call(conv, a));
    }
}
