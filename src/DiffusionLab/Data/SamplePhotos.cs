using System.Diagnostics;
using System.Formats.Tar;

namespace DiffusionLab.Data;

/// <summary>
/// A few real photographs with free licences, for editing pictures a model never saw (CS180 project 5 part A works on a
/// photo of the Campanile): scikit-image's and scikit-learn's sample images, taken from the Debian packages
/// <c>python3-skimage</c> and <c>python3-sklearn</c> (<c>apt-get download</c>, then <c>dpkg-deb --fsys-tarfile</c>; no
/// Python is run). <see cref="Fetch"/> writes the files unchanged into <c>DATA/photos/</c> with a LICENSE.md naming each
/// picture's author and licence; the editing verbs resize them to the model (<c>--image data/photos/china.jpg</c>).
/// </summary>
public static class SamplePhotos
{
    /// <summary>One photo: its file name, the Debian package and path it comes from, and who took it under what terms.</summary>
    public sealed record Photo(string Name, string Package, string PathInPackage, string Credit);

    private const string Skimage = "./usr/lib/python3/dist-packages/skimage/data/";
    private const string Sklearn = "./usr/lib/python3/dist-packages/sklearn/datasets/images/";

    /// <summary>The photos (credits as the packages state them: skimage/data/_fetchers.py, sklearn/datasets/images/README.txt).</summary>
    public static readonly Photo[] All =
    [
        new("china.jpg", "python3-sklearn", Sklearn + "china.jpg", "a temple in China; by danielbuechele on Flickr, CC BY 2.0 (https://creativecommons.org/licenses/by/2.0/), retrieved by Robert Layton for scikit-learn"),
        new("flower.jpg", "python3-sklearn", Sklearn + "flower.jpg", "a flower; by vultilion on Flickr, CC BY 2.0 (https://creativecommons.org/licenses/by/2.0/), retrieved by Robert Layton for scikit-learn"),
        new("astronaut.png", "python3-skimage", Skimage + "astronaut.png", "Eileen Collins, NASA astronaut; NASA Great Images database, public domain"),
        new("chelsea.png", "python3-skimage", Skimage + "chelsea.png", "Chelsea the cat; by Stéfan van der Walt, CC0"),
        new("coffee.png", "python3-skimage", Skimage + "coffee.png", "a cup of coffee; by Rachel Michetti, CC0"),
        new("rocket.jpg", "python3-skimage", Skimage + "rocket.jpg", "the launch of DSCOVR on a Falcon 9; by SpaceX, public domain"),
    ];

    /// <summary>The Debian packages the photos come from, in a fixed order.</summary>
    public static IReadOnlyList<string> Packages => [.. All.Select(p => p.Package).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>
    /// Downloads the packages with <c>apt-get download</c> (or uses <paramref name="debs"/>, already downloaded .deb files
    /// of those packages in any order) and writes every photo and a LICENSE.md into <c>DATA/photos/</c>, each file through
    /// a temporary name; returns the folder. A package or photo that cannot be had is a one-line error.
    /// </summary>
    public static string Fetch(string dataDir, IReadOnlyList<string>? debs = null, TextWriter? log = null)
    {
        var target = Path.Combine(dataDir, "photos");
        Directory.CreateDirectory(target);
        var downloaded = new List<string>();
        try
        {
            var files = new Dictionary<string, string>();
            if (debs is not null)
            {
                foreach (var deb in debs)
                {
                    var package = PackageOf(deb);
                    if (!Packages.Contains(package)) throw new DiffusionLabException($"{deb} is the package {package}, not one of {string.Join(", ", Packages)} (`deb`)");
                    files[package] = deb;
                }
                var missing = Packages.Where(p => !files.ContainsKey(p)).ToList();
                if (missing.Count > 0) throw new DiffusionLabException($"the photos also need the package(s) {string.Join(", ", missing)} (`deb`)");
            }
            else
                foreach (var package in Packages)
                {
                    log?.WriteLine($"running 'apt-get download {package}' in {target} …");
                    var file = AptDownload(package, target);
                    downloaded.Add(file);
                    files[package] = file;
                }
            foreach (var group in All.GroupBy(p => p.Package))
            {
                var wanted = group.ToDictionary(p => p.PathInPackage);
                var found = ExtractFiles(files[group.Key], wanted.Keys.ToHashSet());
                foreach (var (path, bytes) in found) AtomicFile.WriteAllBytes(Path.Combine(target, wanted[path].Name), bytes);
                var lacking = wanted.Keys.Where(k => !found.ContainsKey(k)).ToList();
                if (lacking.Count > 0) throw new DiffusionLabException($"{files[group.Key]} lacks {string.Join(", ", lacking)}: not the Debian package these photos come from");
            }
            AtomicFile.WriteAllText(Path.Combine(target, "LICENSE.md"), Licence());
            return target;
        }
        finally
        {
            foreach (var f in downloaded) File.Delete(f);
        }
    }

    private static string Licence() =>
        "# Sample photos\n\nFetched by `difflab data fetch photos` from the Debian packages "
        + string.Join(" and ", Packages.Select(p => $"`{p}`")) + " (apt-get download), unchanged.\n\n"
        + string.Concat(All.Select(p => $"- `{p.Name}`: {p.Credit}.\n"));

    /// <summary>The package name in a .deb's control data (<c>dpkg-deb --field FILE Package</c>).</summary>
    internal static string PackageOf(string deb)
    {
        if (!File.Exists(deb)) throw new DiffusionLabException($"{deb} does not exist (`deb`)");
        var (code, stdout, stderr) = RunTool("dpkg-deb", ["--field", deb, "Package"], null);
        if (code != 0) throw new DiffusionLabException($"{deb} is not a Debian package: {FirstLine(stderr, code)}");
        return stdout.Trim();
    }

    /// <summary>The files of <paramref name="wanted"/> in a .deb's data archive, by their path in it (<c>./usr/…</c>).</summary>
    internal static Dictionary<string, byte[]> ExtractFiles(string deb, IReadOnlySet<string> wanted)
    {
        var found = new Dictionary<string, byte[]>();
        var psi = new ProcessStartInfo("dpkg-deb", ["--fsys-tarfile", deb]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = ExternalTool.Start(psi, NotInstalled(psi.FileName));
        var stderr = p.StandardError.ReadToEndAsync();
        using (var reader = new TarReader(p.StandardOutput.BaseStream, leaveOpen: true))
            while (reader.GetNextEntry() is { } entry)
            {
                if (!wanted.Contains(entry.Name) || entry.DataStream is null) continue;
                using var ms = new MemoryStream();
                entry.DataStream.CopyTo(ms);
                found[entry.Name] = ms.ToArray();
            }
        p.StandardOutput.BaseStream.CopyTo(Stream.Null); // the rest, so dpkg-deb is not stopped by a full pipe
        p.WaitForExit();
        if (p.ExitCode != 0) throw new DiffusionLabException($"{deb} is not a Debian package that unpacks: {FirstLine(stderr.Result, p.ExitCode)}");
        return found;
    }

    /// <summary>Runs <c>apt-get download PACKAGE</c> in <paramref name="dir"/>; returns the .deb it wrote.</summary>
    private static string AptDownload(string package, string dir)
    {
        var before = Directory.GetFiles(dir, "*.deb").ToHashSet();
        var (code, _, stderr) = RunTool("apt-get", ["download", package], dir);
        var made = Directory.GetFiles(dir, "*.deb").Where(f => !before.Contains(f)).ToList();
        if (code != 0 || made.Count != 1)
        {
            foreach (var f in made) File.Delete(f);
            // A fresh machine or container often has no package lists yet: apt then cannot locate even a package the
            // mirror has, and the cure is `apt-get update`, not another network.
            var hint = stderr.Contains("Unable to locate package", StringComparison.Ordinal)
                ? "the package lists may be empty: run 'apt-get update' (as root) and try again, or download the .deb where there is network and pass it as `deb`"
                : "without network, download the .deb where there is one and pass it as `deb`";
            throw new DiffusionLabException($"'apt-get download {package}' failed: {FirstLine(stderr, code)} ({hint})");
        }
        return made[0];
    }

    private static (int Code, string Stdout, string Stderr) RunTool(string tool, string[] args, string? dir) =>
        ExternalTool.Run(tool, args, dir, NotInstalled(tool));

    private static string NotInstalled(string tool) =>
        $"{tool} is not installed: the photos come from Debian packages (apt-get and dpkg-deb, on Debian and Ubuntu)";

    /// <summary>The first line of a tool's error output that is not a warning, or its exit code.</summary>
    private static string FirstLine(string stderr, int code) =>
        stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault(l => !l.StartsWith("W:", StringComparison.Ordinal))
        ?? $"exit code {code}";
}
