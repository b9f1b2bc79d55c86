using System.Diagnostics;
using DiffusionLab.Data;

namespace DiffusionLab.Tests.Data;

public class SamplePhotosTests
{
    private static string Temp() => Directory.CreateTempSubdirectory("difflab-photos-").FullName;

    /// <summary>A Debian package named <paramref name="package"/> holding <paramref name="files"/> (path under / → bytes), built with dpkg-deb; null where dpkg-deb is missing.</summary>
    private static string? FakeDeb(string package, IReadOnlyDictionary<string, byte[]> files)
    {
        var root = Temp();
        Directory.CreateDirectory(Path.Combine(root, "DEBIAN"));
        File.WriteAllText(Path.Combine(root, "DEBIAN", "control"), $"Package: {package}\nVersion: 1.0\nArchitecture: all\nMaintainer: test <t@example.org>\nDescription: test\n");
        foreach (var (path, bytes) in files)
        {
            var full = Path.Combine(root, path.TrimStart('.', '/'));
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, bytes);
        }
        var deb = Path.Combine(Temp(), package + ".deb");
        try
        {
            using var p = Process.Start(new ProcessStartInfo("dpkg-deb", ["--build", "--root-owner-group", root, deb]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            p.WaitForExit();
            return p.ExitCode == 0 ? deb : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }

    [Fact]
    public void EveryPhotoIsCopiedUnchangedFromItsPackageWithItsCredit()
    {
        var contents = SamplePhotos.All.ToDictionary(p => p.Name, p => System.Text.Encoding.UTF8.GetBytes("bytes of " + p.Name));
        var debs = SamplePhotos.Packages
            .Select(pkg => FakeDeb(pkg, SamplePhotos.All.Where(p => p.Package == pkg).ToDictionary(p => p.PathInPackage, p => contents[p.Name])))
            .ToList();
        if (debs.Any(d => d is null)) { Console.WriteLine("dpkg-deb is not installed: skipped"); return; }
        var data = Temp();
        var folder = SamplePhotos.Fetch(data, [.. debs.AsEnumerable().Reverse()!]); // any order
        foreach (var p in SamplePhotos.All) Assert.Equal(contents[p.Name], File.ReadAllBytes(Path.Combine(folder, p.Name)));
        var licence = File.ReadAllText(Path.Combine(folder, "LICENSE.md"));
        foreach (var p in SamplePhotos.All) Assert.Contains($"`{p.Name}`: {p.Credit}", licence);
        Assert.Contains("CC BY 2.0", licence);
    }

    [Fact]
    public void AnotherPackageOrAPackageWithoutThePhotosIsAOneLineError()
    {
        var other = FakeDeb("some-other-package", new Dictionary<string, byte[]> { ["./usr/share/x.txt"] = [1] });
        var empty = FakeDeb("python3-sklearn", new Dictionary<string, byte[]> { ["./usr/share/x.txt"] = [1] });
        if (other is null || empty is null) { Console.WriteLine("dpkg-deb is not installed: skipped"); return; }
        var e = Assert.Throws<DiffusionLabException>(() => SamplePhotos.Fetch(Temp(), [other]));
        Assert.Contains("not one of python3-skimage, python3-sklearn", e.Message);
        e = Assert.Throws<DiffusionLabException>(() => SamplePhotos.Fetch(Temp(), [empty]));
        Assert.Contains("also need the package(s) python3-skimage", e.Message);
        var notADeb = Path.Combine(Temp(), "x.deb");
        File.WriteAllText(notADeb, "not a package");
        e = Assert.Throws<DiffusionLabException>(() => SamplePhotos.Fetch(Temp(), [notADeb]));
        Assert.Contains("is not a Debian package", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }
}
