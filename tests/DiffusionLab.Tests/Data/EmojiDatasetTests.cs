using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using DiffusionLab.Data;
using SkiaSharp;

namespace DiffusionLab.Tests.Data;

/// <summary>The emoji reader on small packages laid out like npm's emoji-datasource-twitter and -google.</summary>
public class EmojiDatasetTests
{
    private static string Temp()
    {
        var dir = Path.Combine(Path.GetTempPath(), "difflab-emoji-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A 64×64 PNG filled with one unpremultiplied RGBA colour.</summary>
    private static byte[] Png(byte r, byte g, byte b, byte a, Action<SKBitmap>? paint = null)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(64, 64, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(new SKColor(r, g, b, a));
        paint?.Invoke(bitmap);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static string Emoji(string unified, string category, string vendor, bool skins = false, bool has = true)
    {
        string Img(string u) => $"\"image\":\"{u.ToLowerInvariant()}.png\",\"has_img_{vendor}\":{(has ? "true" : "false")}";
        var skinPart = skins ? $",\"skin_variations\":{{\"1F3FB\":{{\"unified\":\"{unified}-1F3FB\",{Img(unified + "-1F3FB")}}},\"1F3FF\":{{\"unified\":\"{unified}-1F3FF\",{Img(unified + "-1F3FF")}}}}}" : "";
        return $"{{\"name\":\"CREATURE {unified}\",\"short_name\":\"creature_{unified.ToLowerInvariant()}\",\"subcategory\":\"animal-test\",\"unified\":\"{unified}\",\"category\":\"{category}\",{Img(unified)}{skinPart}}}";
    }

    /// <summary>Writes a package tarball: emoji.json (unless null), LICENSE and the given PNGs under img/VENDOR/64/.</summary>
    private static string Package(string dir, string vendor, string? emojiJson, IEnumerable<(string File, byte[] Png)> images)
    {
        var path = Path.Combine(dir, $"emoji-datasource-{vendor}-16.0.0.tgz");
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gz);
        void Add(string name, byte[] bytes) => tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/" + name) { DataStream = new MemoryStream(bytes) });
        if (emojiJson is not null) Add("emoji.json", Encoding.UTF8.GetBytes(emojiJson));
        Add("LICENSE", Encoding.UTF8.GetBytes($"licence of {vendor}"));
        foreach (var (f, png) in images) Add($"img/{vendor}/64/{f}", png);
        return path;
    }

    /// <summary>Twelve "Animals &amp; Nature" emoji (the 10th with two skin tones), one "Flags" emoji and one "Component".</summary>
    private static (string Twitter, string Google) TwoPackages(string dir, byte[]? corrupt = null)
    {
        var paths = new List<string>();
        foreach (var vendor in EmojiDataset.Vendors)
        {
            var emoji = Enumerable.Range(0, 12).Select(i => Emoji($"1F4{i:00}", "Animals & Nature", vendor, skins: i == 9)).ToList();
            emoji.Add(Emoji("1F1E6", "Flags", vendor));
            emoji.Add(Emoji("1F3FB", "Component", vendor));
            emoji.Add(Emoji("1F999", "Objects", vendor, has: false)); // listed without an image for this vendor
            var files = new List<(string, byte[])>();
            foreach (var u in Enumerable.Range(0, 12).Select(i => $"1f4{i:00}").Append("1f1e6").Append("1f3fb").Append("1f409-1f3fb").Append("1f409-1f3ff"))
                files.Add(($"{u}.png", Png(255, 0, 0, 255)));
            files[0] = ("1f400.png", corrupt ?? Png(255, 0, 0, 128)); // half-transparent red
            paths.Add(Package(dir, vendor, "[" + string.Join(",", emoji) + "]", files));
        }
        return (paths[0], paths[1]);
    }

    [Fact]
    public void CategoriesSkinTonesAndVendorsBecomeLabelledImagesAndTheSplitIsByEmoji()
    {
        var (twitter, google) = TwoPackages(Temp());
        var (train, heldout, licences) = EmojiDataset.Convert([twitter, google], 32);
        // per vendor: 12 animals + 2 skin tones + 1 flag = 15 images; Component and image-less entries left out
        Assert.Equal(30, train.Count + heldout.Count);
        Assert.Equal(9, train.NumClasses);
        Assert.Equal(["Smileys & Emotion", "People & Body", "Animals & Nature", "Food & Drink", "Travel & Places", "Activities", "Objects", "Symbols", "Flags"], train.ClassNames);
        // the 10th animal (1F409) is held out with both skin tones, from both vendors: 3 images × 2 vendors
        Assert.Equal(6, heldout.Count);
        Assert.All(heldout.Labels, l => Assert.Equal(2, l));
        Assert.Equal(2, train.Labels.Count(l => l == 8)); // the flag, twice
        Assert.Equal((3, 32, 32), (train.Channels, train.Height, train.Width));
        Assert.Contains("licence of twitter", licences);
        Assert.Contains("licence of google", licences);
        // every image carries its captions, skin tones included, and they survive the cache format
        // (the short name "creature_1f409" reads as the name, so it is not repeated)
        Assert.Equal(["creature 1f409, light skin tone", "creature 1f409 (animal test), light skin tone"], heldout.Captions![1]);
        var path = Path.Combine(Temp(), "train.dlds");
        train.Save(path);
        var back = ImageDataset.Load(path);
        Assert.Equal(train.Captions!.Select(c => string.Join("|", c)), back.Captions!.Select(c => string.Join("|", c)));
        Assert.Equal(train.Subset([2, 0]).Captions![1], train.Captions![0]);
    }

    [Theory]
    [InlineData("THUMBS UP SIGN", "+1", "hand-fingers-closed", "1F3FD", "thumbs up sign, medium skin tone", "+1, medium skin tone", "thumbs up sign (hand fingers closed), medium skin tone")]
    [InlineData("GRINNING CAT FACE WITH SMILING EYES", "smile_cat", "cat-face", null, "grinning cat face with smiling eyes", "smile cat", "grinning cat face with smiling eyes (cat face)")]
    [InlineData("KISS", "couplekiss", "family", "1F3FB-1F3FF", "kiss, light skin tone and dark skin tone", "couplekiss, light skin tone and dark skin tone", "kiss (family), light skin tone and dark skin tone")]
    [InlineData("KISS", "couplekiss", "family", "1F3FC-1F3FC", "kiss, medium-light skin tone", "couplekiss, medium-light skin tone", "kiss (family), medium-light skin tone")]
    public void CaptionsComeFromTheNameTheShortNameTheSubcategoryAndTheSkinTone(string name, string shortName, string subcategory, string? skin, string plain, string shortCaption, string withSubcategory)
    {
        Assert.Equal([plain, shortCaption, withSubcategory], EmojiDataset.Captions(name, shortName, subcategory, skin));
    }

    [Fact]
    public void CaptionsDropDuplicatesAndRefuseUnknownSkinTones()
    {
        Assert.Equal(["rocket", "rocket (transport air)"], EmojiDataset.Captions("ROCKET", "rocket", "transport-air", null));
        Assert.Contains("unknown skin-tone key '1F3FA'", Assert.Throws<DiffusionLabException>(() => EmojiDataset.Captions("X", null, null, "1F3FA")).Message);
        Assert.Contains("captions must be one non-empty list per image",
            Assert.Throws<DiffusionLabException>(() => new ImageDataset("x", new byte[2], [0, 0], 1, 1, 1, ["a"], [["a"], []])).Message);
    }

    [Fact]
    public void AlphaIsCompositedOntoWhiteAndTheBoxFilterAveragesWholeSquares()
    {
        // red at α = 128/255 over white: R = α·255 + (1 − α)·255 = 255, G = B = (1 − α)·255 = 127 (±1 for premultiplication)
        var half = EmojiDataset.ToRgb(Png(255, 0, 0, 128), 32, "test");
        Assert.Equal(255, half[0]);
        Assert.InRange(half[32 * 32], 126, 128);
        Assert.InRange(half[2 * 32 * 32], 126, 128);
        // transparent is white whatever its colour
        Assert.All(EmojiDataset.ToRgb(Png(0, 0, 0, 0), 16, "test"), v => Assert.Equal(255, v));
        // a 1-px black/white checkerboard of opaque pixels averages to 127.5 → 128 in every 2×2 box; at 64 px it is kept
        var checker = Png(255, 255, 255, 255, b => { for (int y = 0; y < 64; y++) for (int x = (y % 2); x < 64; x += 2) b.SetPixel(x, y, SKColors.Black); });
        Assert.All(EmojiDataset.ToRgb(checker, 32, "test"), v => Assert.Equal(128, v));
        var full = EmojiDataset.ToRgb(checker, 64, "test");
        Assert.Equal(0, full[0]);
        Assert.Equal(255, full[1]);
    }

    [Fact]
    public void ACorruptPngAMissingIndexOrABadSizeIsAOneLineError()
    {
        var dir = Temp();
        var (twitter, google) = TwoPackages(dir, corrupt: Encoding.ASCII.GetBytes("not a png at all"));
        var corrupt = Assert.Throws<DiffusionLabException>(() => EmojiDataset.Convert([twitter, google], 32));
        Assert.Contains("img/twitter/64/1f400.png", corrupt.Message);
        Assert.DoesNotContain("\n", corrupt.Message);

        var noIndex = Package(Temp(), "twitter", null, []);
        var missing = Assert.Throws<DiffusionLabException>(() => EmojiDataset.Convert([noIndex, google], 32));
        Assert.Contains("no emoji.json", missing.Message);

        var unknown = Package(Temp(), "twitter", "[" + Emoji("1F600", "Feelings", "twitter") + "]", []);
        Assert.Contains("unknown category 'Feelings'", Assert.Throws<DiffusionLabException>(() => EmojiDataset.Convert([unknown, google], 32)).Message);

        Assert.Contains("must divide 64", Assert.Throws<DiffusionLabException>(() => EmojiDataset.Convert([twitter, google], 24)).Message);
        Assert.Contains("not found", Assert.Throws<DiffusionLabException>(() => EmojiDataset.Convert([Path.Combine(dir, "none.tgz"), google], 32)).Message);
    }

    [Theory]
    [InlineData("emoji", true)]
    [InlineData("emoji64", true)]
    [InlineData("emoji16", true)]
    [InlineData("emoji32", false)] // 32 px is plain "emoji"
    [InlineData("emojis", false)]
    [InlineData("mnist", false)]
    public void DatasetNamesSayTheSize(string name, bool isEmoji) => Assert.Equal(isEmoji, EmojiDataset.IsName(name));
}
