namespace DiffusionLab.Models;

/// <summary>
/// Scaled dot-product attention (Vaswani et al. 2017, eq. 1), softmax(q·kᵀ / √d)·v, shared by the U-Net's self- and
/// cross-attention and the prompt encoder: the products in the compute type, the softmax in float32 (autocast's rule).
/// </summary>
internal static class Attention
{
    /// <param name="queries">[…, Lq, d].</param>
    /// <param name="keysTransposed">[…, d, Lk].</param>
    /// <param name="values">[…, Lk, dv].</param>
    /// <param name="ignore">Where true (broadcast to […, Lq, Lk]), a key is not read: padding. Null: every key.</param>
    /// <returns>[…, Lq, dv] in the values' type.</returns>
    public static Tensor Attend(Tensor queries, Tensor keysTransposed, Tensor values, Tensor? ignore = null)
    {
        // each [Lq, Lk] intermediate is freed once read: at 16 px a batch of 128 has 33 MB in every one of them
        var logits = torch.matmul(queries, keysTransposed).Consume(s => s / Math.Sqrt(queries.shape[^1]));
        if (ignore is not null) logits = logits.Consume(l => l.masked_fill(ignore, float.NegativeInfinity));
        return logits.Consume(l => torch.softmax(l, -1, ScalarType.Float32)).Consume(p => p.to_type(values.dtype)).Consume(p => torch.matmul(p, values));
    }
}
