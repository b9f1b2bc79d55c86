
namespace DiffusionLab.Conditioning;

/// <summary>
/// An orthogonal pixel permutation v of image batches [B, C, H, W] with its inverse — the "views" of visual anagrams
/// (Geng et al. 2024): a permutation keeps i.i.d. Gaussian noise i.i.d. Gaussian, so v(x_t) is still a valid noisy image.
/// </summary>
public sealed class ImageView
{
    private readonly Func<Tensor, Tensor> apply, inverse;

    private ImageView(string name, string description, Func<Tensor, Tensor> apply, Func<Tensor, Tensor> inverse)
    {
        Name = name;
        Description = description;
        this.apply = apply;
        this.inverse = inverse;
    }

    public string Name { get; }
    public string Description { get; }
    public Tensor Apply(Tensor x) => apply(x);
    public Tensor Inverse(Tensor x) => inverse(x);

    public static readonly ImageView Identity = new("identity", "as is", x => x.alias(), x => x.alias());
    /// <summary>Upside down (a vertical flip), the CS180 anagram.</summary>
    public static readonly ImageView Flip = new("flip", "upside down", x => x.flip(2), x => x.flip(2));
    public static readonly ImageView Rotate180 = new("rot180", "rotated 180°", x => x.flip(2, 3), x => x.flip(2, 3));
    public static readonly ImageView Rotate90 = new("rot90", "rotated 90° anticlockwise", x => x.rot90(1, (2, 3)), x => x.rot90(-1, (2, 3)));
    public static readonly ImageView Transpose = new("transpose", "mirrored about the diagonal", x => x.transpose(2, 3), x => x.transpose(2, 3));

    public static IReadOnlyList<ImageView> All { get; } = [Flip, Rotate180, Rotate90, Transpose, Identity];

    public static ImageView Parse(string name) =>
        All.FirstOrDefault(v => v.Name == name)
        ?? throw new DiffusionLabException($"unknown view '{name}' ({string.Join(", ", All.Select(v => v.Name))})");
}
