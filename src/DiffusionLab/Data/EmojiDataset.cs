using System.Text.Json;
using SkiaSharp;

namespace DiffusionLab.Data;

/// <summary>
/// Emoji as an RGB image dataset with categories, from the npm packages <c>emoji-datasource-twitter</c> (Twemoji,
/// CC-BY 4.0) and <c>emoji-datasource-google</c> (Noto Emoji, Apache-2.0): every 64×64 RGBA image of both vendors,
/// base designs and skin-tone variants, of every category except "Component" — 7,562 images in 9 classes at 16.0.0.
/// Alpha is composited onto white and the image box-filtered (each output pixel the mean of its square of source
/// pixels) to <c>size</c>. The held-out split is chosen by emoji identity — within each category, in the package's
/// sort order, every tenth emoji with all its vendors and skin tones — so held-out images are designs never trained on.
/// </summary>
public static class EmojiDataset
{
    public static readonly string[] Vendors = ["twitter", "google"];

    /// <summary>The classes, in emoji.json's category order ("Component" — skin-tone and hair swatches — left out).</summary>
    public static readonly string[] ClassNames =
        ["Smileys & Emotion", "People & Body", "Animals & Nature", "Food & Drink", "Travel & Places", "Activities", "Objects", "Symbols", "Flags"];

    public const string Version = "16.0.0";
    public const int SourceSize = 64;
    public const int DefaultSize = 32;
    /// <summary>Every <c>HeldoutEvery</c>-th emoji of a category (by sort order) is held out.</summary>
    public const int HeldoutEvery = 10;

    /// <summary>The dataset name of a size: <c>emoji</c> at 32 px, <c>emojiN</c> otherwise.</summary>
    public static string NameFor(int size) => size == DefaultSize ? "emoji" : $"emoji{size}";

    /// <summary>Whether <paramref name="name"/> is an emoji dataset name (<c>emoji</c>, <c>emoji64</c>, …).</summary>
    public static bool IsName(string name) =>
        name == "emoji" || (name.StartsWith("emoji", StringComparison.Ordinal) && int.TryParse(name[5..], out int s) && s > 0 && NameFor(s) == name);

    public const string Licence = """
        # Licences of the emoji images

        These images were converted by `difflab data fetch emoji` from the npm packages
        `emoji-datasource-twitter` and `emoji-datasource-google` (version 16.0.0, by iamcal, MIT-licensed packaging).

        - **Twemoji** graphics (the `twitter` images): Copyright Twitter, Inc and other contributors, licensed under
          CC-BY 4.0, https://creativecommons.org/licenses/by/4.0/ — attribution is required when you publish them or
          pictures derived from them.
        - **Noto Emoji** graphics (the `google` images): Copyright Google Inc., licensed under the Apache License 2.0,
          https://www.apache.org/licenses/LICENSE-2.0

        Changes made: alpha composited onto white, box-filtered to a smaller size, stored as 8-bit RGB.
        The packages' own LICENSE files follow.
        """;

    /// <summary>
    /// Runs <c>npm pack</c> for both packages (or uses <paramref name="tarballs"/>, one per vendor in <see cref="Vendors"/>
    /// order) and writes <c>DATA/NAME/train.dlds</c>, <c>heldout.dlds</c> and <c>LICENSE.md</c>; returns the two paths.
    /// </summary>
    public static (string Train, string Heldout) Fetch(string dataDir, int size = DefaultSize, IReadOnlyList<string>? tarballs = null, TextWriter? log = null)
    {
        CheckSize(size);
        if (tarballs is not null && tarballs.Count != Vendors.Length)
            throw new DiffusionLabException($"emoji needs {Vendors.Length} package files ({string.Join(", ", Vendors.Select(Package))}), got {tarballs.Count} (`tarball`)");
        var target = Path.Combine(dataDir, NameFor(size));
        Directory.CreateDirectory(target);
        var downloaded = new List<string>();
        try
        {
            var files = new List<string>();
            foreach (var vendor in Vendors)
            {
                if (tarballs is not null) { files.Add(tarballs[files.Count]); continue; }
                log?.WriteLine($"running 'npm pack {Package(vendor)}@{Version}' in {target} …");
                var file = NpmImageDatasets.NpmPack($"{Package(vendor)}@{Version}", target);
                downloaded.Add(file);
                files.Add(file);
            }
            var (train, heldout, licences) = Convert(files, size, NameFor(size));
            var trainPath = Path.Combine(target, "train.dlds");
            var heldoutPath = Path.Combine(target, "heldout.dlds");
            train.Save(trainPath);
            heldout.Save(heldoutPath);
            AtomicFile.WriteAllText(Path.Combine(target, "LICENSE.md"), Licence + "\n" + licences);
            return (trainPath, heldoutPath);
        }
        finally
        {
            foreach (var f in downloaded) File.Delete(f);
        }
    }

    public static string Package(string vendor) => $"emoji-datasource-{vendor}";

    private static void CheckSize(int size)
    {
        if (size < 1 || size > SourceSize || SourceSize % size != 0)
            throw new DiffusionLabException($"`size` must divide {SourceSize} (64, 32, 16 or 8; the box filter averages whole squares), got {size}");
    }

    /// <summary>One image of the dataset before conversion: its class, its emoji's identity, its PNG path in the package and its captions (<see cref="Captions"/>).</summary>
    public sealed record Entry(int Class, string Identity, string ImagePath, string[] Captions);

    /// <summary>Unicode's skin-tone modifiers (Fitzpatrick types 1–2 to 6) by code point, as emoji.json keys skin variations.</summary>
    private static readonly Dictionary<string, string> SkinTones = new()
    {
        ["1F3FB"] = "light skin tone", ["1F3FC"] = "medium-light skin tone", ["1F3FD"] = "medium skin tone",
        ["1F3FE"] = "medium-dark skin tone", ["1F3FF"] = "dark skin tone",
    };

    /// <summary>
    /// The captions of one image, plain first: its Unicode name in lower case ("grinning cat face with smiling eyes"),
    /// then its short name ("smile cat") and its name with its subcategory ("… (cat face)"), each followed by the skin
    /// tone of a variation ("thumbs up sign, medium skin tone"; two tones for the two people of a couple). Duplicates
    /// are dropped. <paramref name="skinKey"/> is emoji.json's key of the variation ("1F3FD", "1F3FB-1F3FF"), or null.
    /// </summary>
    public static string[] Captions(string name, string? shortName, string? subcategory, string? skinKey)
    {
        string tone = "";
        if (skinKey is not null)
        {
            var tones = skinKey.Split('-').Select(k => SkinTones.TryGetValue(k, out var t) ? t : null).ToList();
            if (tones.Any(t => t is null)) throw new DiffusionLabException($"emoji.json: unknown skin-tone key '{skinKey}'");
            tones = tones.Distinct().ToList();
            tone = ", " + string.Join(" and ", tones);
        }
        static string Words(string s) => string.Join(' ', s.Replace('_', ' ').Replace('-', ' ').Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();
        var plain = name.Trim().ToLowerInvariant();
        var captions = new List<string> { plain + tone };
        if (!string.IsNullOrWhiteSpace(shortName)) captions.Add(Words(shortName) + tone);
        if (!string.IsNullOrWhiteSpace(subcategory)) captions.Add($"{plain} ({Words(subcategory)}){tone}");
        return captions.Distinct().ToArray();
    }

    /// <summary>
    /// The images a vendor's emoji.json lists for that vendor, in file order: base image and skin variations of every
    /// emoji with <c>has_img_VENDOR</c>, "Component" left out. An unknown category is an error, not a silent skip.
    /// </summary>
    public static List<Entry> ParseIndex(byte[] emojiJson, string vendor, string source = "emoji.json")
    {
        var entries = new List<Entry>();
        try
        {
            using var doc = JsonDocument.Parse(emojiJson);
            if (doc.RootElement.ValueKind != JsonValueKind.Array) throw new DiffusionLabException($"{source} is not a list of emoji");
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                var category = e.GetProperty("category").GetString() ?? "";
                if (category == "Component") continue;
                int cls = Array.IndexOf(ClassNames, category);
                if (cls < 0) throw new DiffusionLabException($"{source}: unknown category '{category}' (expected one of {string.Join(", ", ClassNames)} or Component)");
                var identity = e.GetProperty("unified").GetString() ?? throw new DiffusionLabException($"{source}: an emoji without 'unified'");
                string? Text(string property) => e.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                var name = Text("name") ?? Text("short_name") ?? throw new DiffusionLabException($"{source}: emoji {identity} has neither 'name' nor 'short_name'");
                void Add(JsonElement x, string? skinKey)
                {
                    if (x.TryGetProperty("has_img_" + vendor, out var has) && has.ValueKind == JsonValueKind.True)
                        entries.Add(new Entry(cls, identity, $"img/{vendor}/{SourceSize}/{x.GetProperty("image").GetString()}",
                            Captions(name, Text("short_name"), Text("subcategory"), skinKey)));
                }
                Add(e, null);
                if (e.TryGetProperty("skin_variations", out var skins) && skins.ValueKind == JsonValueKind.Object)
                    foreach (var s in skins.EnumerateObject()) Add(s.Value, s.Name);
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new DiffusionLabException($"{source} is not a valid emoji index ({ex.Message.Split('\n')[0]})");
        }
        return entries;
    }

    /// <summary>
    /// The held-out identities: within each class, in order of first appearance, every <see cref="HeldoutEvery"/>-th
    /// emoji (the 10th, 20th, …), so each class keeps about a tenth of its designs for evaluation.
    /// </summary>
    public static HashSet<string> HeldoutIdentities(IEnumerable<Entry> entries)
    {
        var held = new HashSet<string>();
        foreach (var group in entries.GroupBy(e => e.Class))
        {
            var ids = group.Select(e => e.Identity).Distinct().ToList();
            for (int i = HeldoutEvery - 1; i < ids.Count; i += HeldoutEvery) held.Add(ids[i]);
        }
        return held;
    }

    /// <summary>Reads the package files (one per vendor) into the two splits; also returns the packages' LICENSE texts.</summary>
    public static (ImageDataset Train, ImageDataset Heldout, string Licences) Convert(IReadOnlyList<string> tarballs, int size = DefaultSize, string? name = null)
    {
        CheckSize(size);
        name ??= NameFor(size);
        var all = new List<(Entry Entry, byte[] Pixels)>();
        var licences = new System.Text.StringBuilder();
        for (int v = 0; v < tarballs.Count; v++)
        {
            var vendor = Vendors[v];
            var files = ReadPackage(tarballs[v]);
            if (!files.TryGetValue("emoji.json", out var index))
                throw new DiffusionLabException($"{tarballs[v]} has no emoji.json: is it {Package(vendor)}?");
            if (files.TryGetValue("LICENSE", out var licence))
                licences.Append($"\n## {Package(vendor)}: LICENSE\n\n```\n{System.Text.Encoding.UTF8.GetString(licence).Trim()}\n```\n");
            var entries = ParseIndex(index, vendor, $"{tarballs[v]}: emoji.json");
            if (entries.Count == 0) throw new DiffusionLabException($"{tarballs[v]}: emoji.json lists no {vendor} images: is it {Package(vendor)}?");
            foreach (var entry in entries)
            {
                if (!files.TryGetValue(entry.ImagePath, out var png))
                    throw new DiffusionLabException($"{tarballs[v]}: emoji.json lists {entry.ImagePath}, which the package lacks");
                all.Add((entry, ToRgb(png, size, $"{tarballs[v]}: {entry.ImagePath}")));
            }
        }
        var heldout = HeldoutIdentities(all.Select(a => a.Entry));
        ImageDataset Build(bool held)
        {
            var part = all.Where(a => heldout.Contains(a.Entry.Identity) == held).ToList();
            return new ImageDataset(name, part.SelectMany(p => p.Pixels).ToArray(), part.Select(p => p.Entry.Class).ToArray(), 3, size, size, ClassNames,
                part.Select(p => p.Entry.Captions).ToArray());
        }
        return (Build(false), Build(true), licences.ToString());
    }

    /// <summary>The files of a package that the conversion reads: emoji.json, LICENSE and the 64 px PNGs.</summary>
    private static Dictionary<string, byte[]> ReadPackage(string tarball) =>
        NpmImageDatasets.ReadPackageFiles(tarball, n => n is "emoji.json" or "LICENSE"
            || (n.StartsWith("img/", StringComparison.Ordinal) && n.Contains($"/{SourceSize}/") && n.EndsWith(".png", StringComparison.Ordinal)));

    /// <summary>
    /// A 64×64 RGBA PNG as planar 8-bit RGB [3, size, size]: composited onto white (premultiplied colour + (1 − α)·255,
    /// Porter &amp; Duff's "over"), then box-filtered — each output pixel the mean of its (64/size)² source pixels — and rounded.
    /// </summary>
    public static byte[] ToRgb(byte[] png, int size, string source)
    {
        CheckSize(size);
        using var data = SKData.CreateCopy(png);
        using var codec = SKCodec.Create(data) ?? throw new DiffusionLabException($"{source} is not a PNG that decodes");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        if (info.Width != SourceSize || info.Height != SourceSize)
            throw new DiffusionLabException($"{source} is {info.Width}×{info.Height}, not {SourceSize}×{SourceSize}");
        using var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result != SKCodecResult.Success) throw new DiffusionLabException($"{source} is truncated or damaged ({result})");
        var rgba = bitmap.GetPixelSpan();
        int k = SourceSize / size;
        var output = new byte[3 * size * size];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    double sum = 0;
                    for (int dy = 0; dy < k; dy++)
                        for (int dx = 0; dx < k; dx++)
                        {
                            int p = ((y * k + dy) * SourceSize + x * k + dx) * 4;
                            sum += rgba[p + c] + (255 - rgba[p + 3]); // premultiplied colour over white
                        }
                    output[(c * size + y) * size + x] = (byte)Math.Clamp(Math.Round(sum / (k * k)), 0, 255);
                }
        return output;
    }
}
