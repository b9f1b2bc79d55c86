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
        var logits = torch.matmul(queries, keysTransposed) / Math.Sqrt(queries.shape[^1]);
        if (ignore is not null) logits = logits.masked_fill(ignore, float.NegativeInfinity);
        return torch.matmul(torch.softmax(logits, -1, ScalarType.Float32).to_type(values.dtype), values);
    }
}
