using System.Text;

namespace DiffusionLab.Tests.Build;

public class ElfVersionPatcherTests
{
    // A minimal ELF64 LE image: a .dynstr and a .gnu.version_r needing two libstdc++ versions.
    internal static byte[] SyntheticElf()
    {
        var strtab = Encoding.ASCII.GetBytes("\0libstdc++.so.6\0GLIBCXX_3.4.32\0GLIBCXX_3.4.30\0");
        int fileName = 1, v32 = 16, v30 = 31;
        var verneed = new byte[16 + 2 * 16];
        void W16(byte[] b, int o, int v) { b[o] = (byte)v; b[o + 1] = (byte)(v >> 8); }
        void W32(byte[] b, int o, int v) { for (int i = 0; i < 4; i++) b[o + i] = (byte)(v >> (8 * i)); }
        W16(verneed, 0, 1); W16(verneed, 2, 2); W32(verneed, 4, fileName); W32(verneed, 8, 16); W32(verneed, 12, 0);
        W32(verneed, 16 + 0, 0x1234); W16(verneed, 16 + 4, 0); W16(verneed, 16 + 6, 3); W32(verneed, 16 + 8, v32); W32(verneed, 16 + 12, 16);
        W32(verneed, 32 + 0, 0x5678); W16(verneed, 32 + 4, 0); W16(verneed, 32 + 6, 4); W32(verneed, 32 + 8, v30); W32(verneed, 32 + 12, 0);

        int strOff = 64, vnOff = strOff + strtab.Length, shOff = vnOff + verneed.Length;
        var elf = new byte[shOff + 3 * 64];
        elf[0] = 0x7f; elf[1] = (byte)'E'; elf[2] = (byte)'L'; elf[3] = (byte)'F'; elf[4] = 2; elf[5] = 1; elf[6] = 1;
        W32(elf, 0x28, shOff); W16(elf, 0x3A, 64); W16(elf, 0x3C, 3);
        strtab.CopyTo(elf, strOff);
        verneed.CopyTo(elf, vnOff);
        void Section(int index, uint type, int offset, int size, int link, int info)
        {
            int sh = shOff + index * 64;
            W32(elf, sh + 4, unchecked((int)type)); W32(elf, sh + 24, offset); W32(elf, sh + 32, size); W32(elf, sh + 40, link); W32(elf, sh + 44, info);
        }
        Section(1, 3, strOff, strtab.Length, 0, 0);
        Section(2, 0x6ffffffe, vnOff, verneed.Length, 1, 1);
        return elf;
    }

    [Fact]
    public void ReadsVersionNeeds()
    {
        var needs = ElfVersionPatcher.ReadVersionNeeds(SyntheticElf());
        Assert.Equal(["GLIBCXX_3.4.32", "GLIBCXX_3.4.30"], needs.Select(n => n.Name));
        Assert.All(needs, n => Assert.Equal("libstdc++.so.6", n.File));
        Assert.All(needs, n => Assert.False(n.IsWeak));
    }

    [Fact]
    public void WeakensOnlyTheNamedVersionAndIsIdempotent()
    {
        var elf = SyntheticElf();
        var original = (byte[])elf.Clone();
        Assert.Equal(["GLIBCXX_3.4.32"], ElfVersionPatcher.WeakenVersionNeeds(elf, ["GLIBCXX_3.4.32"]));
        var needs = ElfVersionPatcher.ReadVersionNeeds(elf);
        Assert.True(needs.Single(n => n.Name == "GLIBCXX_3.4.32").IsWeak);
        Assert.False(needs.Single(n => n.Name == "GLIBCXX_3.4.30").IsWeak);
        // Exactly one byte changed: the low byte of vna_flags.
        Assert.Equal(1, elf.Zip(original).Count(p => p.First != p.Second));
        Assert.Empty(ElfVersionPatcher.WeakenVersionNeeds(elf, ["GLIBCXX_3.4.32"]));
    }

    [Fact]
    public void FilePatchReplacesTheFileAndLeavesOtherLinksAlone()
    {
        var dir = Directory.CreateTempSubdirectory("difflab-elf").FullName;
        var path = Path.Combine(dir, "lib.so");
        File.WriteAllBytes(path, SyntheticElf());
        var before = File.ReadAllBytes(path);
        Assert.Single(ElfVersionPatcher.WeakenVersionNeeds(path, ["GLIBCXX_3.4.32"]));
        Assert.True(ElfVersionPatcher.ReadVersionNeeds(path).Single(n => n.Name == "GLIBCXX_3.4.32").IsWeak);
        var stamp = File.GetLastWriteTimeUtc(path);
        Assert.Empty(ElfVersionPatcher.WeakenVersionNeeds(path, ["GLIBCXX_3.4.32"]));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(path)); // no rewrite when nothing changes
        Assert.Empty(Directory.GetFiles(dir, "*tmp*"));
        Assert.NotEqual(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void RejectsFilesThatAreNotElf64()
    {
        Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.ReadVersionNeeds(Encoding.ASCII.GetBytes(new string('x', 100))));
        var elf32 = SyntheticElf();
        elf32[4] = 1;
        Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.ReadVersionNeeds(elf32));
    }

    [Fact]
    public void BuildOutputCopyOfTorchSharpGlueIsPatched()
    {
        if (!OperatingSystem.IsLinux()) return;
        var glue = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories);
        Assert.NotEmpty(glue);
        foreach (var path in glue)
        {
            var needs = ElfVersionPatcher.ReadVersionNeeds(path);
            var v32 = needs.Where(n => n.Name == "GLIBCXX_3.4.32").ToList();
            Assert.All(v32, n => Assert.True(n.IsWeak, $"{path}: GLIBCXX_3.4.32 is not weak"));
            // Everything else is left as TorchSharp shipped it.
            Assert.All(needs.Where(n => n.Name != "GLIBCXX_3.4.32"), n => Assert.False(n.IsWeak));
        }
    }
}
