using DiffusionLab.Runtime;
using TorchSharp.Modules;

namespace DiffusionLab.Models;

/// <summary>
/// The layout of a prompt that arrives as a frozen pretrained encoder's token features (Conditioning's
/// MiniLmPromptEncoder makes them): [B, L, <see cref="Channels"/>], each position's <see cref="Width"/> features and then
/// a presence flag, 1 where a token is and 0 for none.
/// </summary>
public static class FrozenPromptFeatures
{
    /// <summary>The name a config records for sentence-transformers' all-MiniLM-L6-v2, the one frozen encoder known.</summary>
    public const string MiniLm = "all-MiniLM-L6-v2";
    /// <summary>Features per token (MiniLM's hidden width).</summary>
    public const int Width = 384;
    /// <summary>Channels per position: the features and the presence flag.</summary>
    public const int Channels = Width + 1;

    /// <summary>The token features [B, L, <see cref="Width"/>] (float32) of a condition [B, L, <see cref="Channels"/>].</summary>
    public static Tensor Features(Tensor condition) => condition.narrow(2, 0, Width).to_type(ScalarType.Float32);

    /// <summary>Where a condition [B, L, <see cref="Channels"/>] has a token [B, L] (its presence flag is set).</summary>
    public static Tensor Present(Tensor condition) => condition.select(2, Width).gt(0.5);
}

/// <summary>Constructor arguments of <see cref="TextEncoder"/>.</summary>
public sealed record TextEncoderConfig
{
    /// <summary>Token ids (the prompt vocabulary's size, reserved ids included); 0 with a <see cref="Frozen"/> encoder.</summary>
    public int VocabSize { get; init; }
    /// <summary>
    /// The frozen pretrained encoder whose token features the prompt arrives as (<see cref="FrozenPromptFeatures.MiniLm"/>),
    /// or null: the prompt arrives as token ids of a vocabulary learned with the network. Absent from older configs.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Frozen { get; init; }
    /// <summary>Tokens per prompt (the vocabulary's MaxTokens).</summary>
    public int MaxTokens { get; init; } = 24;
    public int Width { get; init; } = 128;
    public int Layers { get; init; } = 2;
    public int Heads { get; init; } = 4;
    /// <summary>
    /// With a <see cref="Frozen"/> encoder: the number of image categories a <see cref="PromptCategoryPrior"/> reads from
    /// the prompt, whose class embedding (that many rows and a null row) joins the time embedding; 0 (absent from older
    /// configs) for none.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public int Categories { get; init; }
}

/// <summary>
/// A small transformer encoder of prompt tokens (Vaswani et al. 2017), trained with the U-Net as Imagen's and GLIDE's text
/// towers are (Nichol et al. 2022 train theirs jointly): token and learned position embeddings, pre-norm blocks —
/// LayerNorm → multi-head self-attention with the padding masked out → residual, LayerNorm → MLP (4×, GELU) → residual —
/// and a final LayerNorm. It returns every token's features [B, L, W] and the pooled prompt [B, W], the mean over the
/// tokens that are not padding. Id <see cref="PadId"/> is padding and every prompt begins with <see cref="StartId"/>
/// (the prompt vocabulary of Conditioning assigns the ids).
/// <para>
/// With a <see cref="TextEncoderConfig.Frozen"/> encoder the prompt arrives instead as that encoder's token features
/// [B, L − 1, F + 1] (the last channel 1 where a token is, 0 for none): a learned linear map takes them to the width, a
/// learned start token goes in front (so the empty prompt, no tokens at all, still has one key to attend to), and the
/// same blocks follow — an adapter trained on top of the frozen features, as Imagen trains everything above its frozen T5.
/// </para>
/// </summary>
public sealed class TextEncoder : nn.Module<Tensor, (Tensor Tokens, Tensor Pooled, Tensor Padding)>
{
    public const long PadId = 0, StartId = 1;

    private readonly Embedding? token_emb;
    private readonly Linear? feature_proj;
    private readonly Parameter? start_emb;
    private readonly Parameter pos_emb;
    private readonly ModuleList<Block> blocks;
    private readonly LayerNorm norm_out;

    public TextEncoderConfig Config { get; }

    public TextEncoder(TextEncoderConfig config) : base(nameof(TextEncoder))
    {
        Config = config;
        if (config.Frozen is not null && config.Frozen != FrozenPromptFeatures.MiniLm)
            throw new DiffusionLabException($"unknown frozen text encoder `Frozen` '{config.Frozen}' (known: {FrozenPromptFeatures.MiniLm})");
        if ((config.Frozen is null && config.VocabSize < 4) || config.MaxTokens < 2 || config.Width < 1 || config.Layers < 1 || config.Heads < 1 || config.Width % config.Heads != 0)
            throw new DiffusionLabException($"the text encoder needs a vocabulary of at least 4 ids, at least 2 tokens, and a width divisible by its heads (vocabulary {config.VocabSize}, tokens {config.MaxTokens}, width {config.Width}, heads {config.Heads})");
        if (config.Frozen is null) token_emb = nn.Embedding(config.VocabSize, config.Width);
        else
        {
            feature_proj = nn.Linear(FrozenPromptFeatures.Width, config.Width);
            start_emb = nn.Parameter(torch.randn(config.Width) * 0.02);
        }
        pos_emb = nn.Parameter(torch.randn(config.MaxTokens, config.Width) * 0.02);
        blocks = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new Block(config.Width, config.Heads)).ToArray());
        norm_out = nn.LayerNorm(config.Width);
        RegisterComponents();
    }

    /// <summary>Where <paramref name="ids"/> [B, L] is padding (true) — the keys attention must not read.</summary>
    public static Tensor PaddingMask(Tensor ids) => ids.eq(PadId);

    /// <summary>The condition of <paramref name="batch"/> empty prompts: [Start, Pad, …] ids, or no frozen features at all.</summary>
    public Tensor EmptyPrompts(long batch, Device device)
    {
        if (Config.Frozen is not null) return torch.zeros([batch, Config.MaxTokens - 1, FrozenPromptFeatures.Channels], device: device);
        var ids = torch.zeros([batch, Config.MaxTokens], ScalarType.Int64, device);
        ids[.., 0] = torch.tensor(StartId);
        return ids;
    }

    /// <summary>Refuses, in one line, a <paramref name="condition"/> this encoder cannot read for a batch of <paramref name="batch"/>.</summary>
    public void CheckCondition(Tensor condition, long batch)
    {
        bool ok = Config.Frozen is null
            ? condition.dim() == 2 && condition.dtype == ScalarType.Int64 && condition.shape[1] <= Config.MaxTokens
            : condition.dim() == 3 && condition.is_floating_point() && condition.shape[1] <= Config.MaxTokens - 1 && condition.shape[2] == FrozenPromptFeatures.Channels;
        if (!ok || condition.shape[0] != batch)
            throw new DiffusionLabException(Config.Frozen is null
                ? $"a text-conditioned U-Net takes prompt tokens [B, L ≤ {Config.MaxTokens}] (int64), got [{string.Join(", ", condition.shape)}] ({condition.dtype}) for a batch of {batch}"
                : $"a U-Net on {Config.Frozen} features takes them as [B, L ≤ {Config.MaxTokens - 1}, {FrozenPromptFeatures.Channels}], got [{string.Join(", ", condition.shape)}] ({condition.dtype}) for a batch of {batch}");
    }

    public override (Tensor Tokens, Tensor Pooled, Tensor Padding) forward(Tensor condition)
    {
        CheckCondition(condition, condition.shape[0]);
        using var scope = torch.NewDisposeScope();
        Tensor h, padding;
        if (feature_proj is not null)
        {
            // frozen features: the learned start token, then the features mapped to the width; padding where no token is
            long b = condition.shape[0];
            var features = FrozenPromptFeatures.Features(condition);
            var present = FrozenPromptFeatures.Present(condition);
            h = torch.cat([start_emb!.expand(b, 1, -1), MixedPrecision.Call(feature_proj, features).to_type(ScalarType.Float32)], 1);
            padding = torch.cat([torch.zeros([b, 1], ScalarType.Bool, condition.device), present.logical_not()], 1);
        }
        else
        {
            h = token_emb!.call(condition);
            padding = PaddingMask(condition);
        }
        long length = h.shape[1];
        h = h + pos_emb.narrow(0, 0, length).unsqueeze(0);
        foreach (var block in blocks) h = block.call(h, padding);
        h = norm_out.call(h.to_type(ScalarType.Float32));
        var keep = padding.logical_not().unsqueeze(-1).to_type(h.dtype);
        var pooled = (h * keep).sum(1) / keep.sum(1).clamp_min(1);
        return (h.MoveToOuterDisposeScope(), pooled.MoveToOuterDisposeScope(), padding.MoveToOuterDisposeScope());
    }

    /// <summary>Pre-norm transformer block; its linear layers follow <see cref="MixedPrecision"/>.</summary>
    private sealed class Block : nn.Module<Tensor, Tensor, Tensor>
    {
        private readonly LayerNorm norm1, norm2;
        private readonly Linear qkv, proj, fc1, fc2;
        private readonly int _heads;

        public Block(int width, int heads) : base(nameof(Block))
        {
            _heads = heads;
            norm1 = nn.LayerNorm(width);
            qkv = nn.Linear(width, 3 * width);
            proj = nn.Linear(width, width);
            norm2 = nn.LayerNorm(width);
            fc1 = nn.Linear(width, 4 * width);
            fc2 = nn.Linear(4 * width, width);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x, Tensor padding)
        {
            long b = x.shape[0], l = x.shape[1], w = x.shape[2], d = w / _heads;
            var parts = MixedPrecision.Call(qkv, norm1.call(x)).reshape(b, l, 3, _heads, d).permute(2, 0, 3, 1, 4); // [3, B, H, L, d]
            var (q, k, v) = (parts[0], parts[1], parts[2]);
            // no query reads padding (Start is never padding, so every row keeps a key)
            var attended = Attention.Attend(q, k.transpose(-2, -1), v, padding.unsqueeze(1).unsqueeze(1)).permute(0, 2, 1, 3).reshape(b, l, w);
            x = x + MixedPrecision.Call(proj, attended);
            return x + MixedPrecision.Call(fc2, nn.functional.gelu(MixedPrecision.Call(fc1, norm2.call(x))));
        }
    }
}
