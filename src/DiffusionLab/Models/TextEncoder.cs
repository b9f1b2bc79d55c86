using DiffusionLab.Runtime;
using TorchSharp.Modules;

namespace DiffusionLab.Models;

/// <summary>Constructor arguments of <see cref="TextEncoder"/>.</summary>
public sealed record TextEncoderConfig
{
    /// <summary>Token ids (the prompt vocabulary's size, reserved ids included).</summary>
    public int VocabSize { get; init; }
    /// <summary>Tokens per prompt (the vocabulary's MaxTokens).</summary>
    public int MaxTokens { get; init; } = 24;
    public int Width { get; init; } = 128;
    public int Layers { get; init; } = 2;
    public int Heads { get; init; } = 4;
}

/// <summary>
/// A small transformer encoder of prompt tokens (Vaswani et al. 2017), trained with the U-Net as Imagen's and GLIDE's text
/// towers are (Nichol et al. 2022 train theirs jointly): token and learned position embeddings, pre-norm blocks —
/// LayerNorm → multi-head self-attention with the padding masked out → residual, LayerNorm → MLP (4×, GELU) → residual —
/// and a final LayerNorm. It returns every token's features [B, L, W] and the pooled prompt [B, W], the mean over the
/// tokens that are not padding. Id <see cref="PadId"/> is padding and every prompt begins with <see cref="StartId"/>
/// (the prompt vocabulary of Conditioning assigns the ids).
/// </summary>
public sealed class TextEncoder : nn.Module<Tensor, (Tensor Tokens, Tensor Pooled)>
{
    public const long PadId = 0, StartId = 1;

    private readonly Embedding token_emb;
    private readonly Parameter pos_emb;
    private readonly ModuleList<Block> blocks;
    private readonly LayerNorm norm_out;

    public TextEncoderConfig Config { get; }

    public TextEncoder(TextEncoderConfig config) : base(nameof(TextEncoder))
    {
        Config = config;
        if (config.VocabSize < 4 || config.MaxTokens < 2 || config.Width < 1 || config.Layers < 1 || config.Heads < 1 || config.Width % config.Heads != 0)
            throw new DiffusionLabException($"the text encoder needs a vocabulary of at least 4 ids, at least 2 tokens, and a width divisible by its heads (vocabulary {config.VocabSize}, tokens {config.MaxTokens}, width {config.Width}, heads {config.Heads})");
        token_emb = nn.Embedding(config.VocabSize, config.Width);
        pos_emb = nn.Parameter(torch.randn(config.MaxTokens, config.Width) * 0.02);
        blocks = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new Block(config.Width, config.Heads)).ToArray());
        norm_out = nn.LayerNorm(config.Width);
        RegisterComponents();
    }

    /// <summary>Where <paramref name="ids"/> [B, L] is padding (true) — the keys attention must not read.</summary>
    public static Tensor PaddingMask(Tensor ids) => ids.eq(PadId);

    public override (Tensor Tokens, Tensor Pooled) forward(Tensor ids)
    {
        if (ids.dim() != 2 || ids.shape[1] > Config.MaxTokens)
            throw new DiffusionLabException($"prompt tokens must be [B, L ≤ {Config.MaxTokens}], got [{string.Join(", ", ids.shape)}]");
        using var scope = torch.NewDisposeScope();
        long length = ids.shape[1];
        var padding = PaddingMask(ids);
        var h = token_emb.call(ids) + pos_emb.narrow(0, 0, length).unsqueeze(0);
        foreach (var block in blocks) h = block.call(h, padding);
        h = norm_out.call(h.to_type(ScalarType.Float32));
        var keep = padding.logical_not().unsqueeze(-1).to_type(h.dtype);
        var pooled = (h * keep).sum(1) / keep.sum(1).clamp_min(1);
        return (h.MoveToOuterDisposeScope(), pooled.MoveToOuterDisposeScope());
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
