// Build-time fix that lets TorchSharp's native glue load on Debian 12.
//
// libLibTorchSharp.so (TorchSharp 0.107.0) lists GLIBCXX_3.4.32 (GCC 13) among the symbol versions it
// needs, but Debian 12's libstdc++ stops at GLIBCXX_3.4.30, so dlopen refuses the library. The only
// symbol bound to that version, std::ios_base_library_init(), is referenced but never called. Marking
// the version requirement VER_FLG_WEAK (ELF gABI, "Symbol Versioning": vna_flags bit 0x2) makes the
// dynamic loader accept the library when that version is missing, while keeping every other check.
//
// This one file is used twice: MSBuild compiles it as an inline task (RoslynCodeTaskFactory, see
// Directory.Build.targets) that patches the copy in each build output, and the test project compiles
// it with DIFFLAB_NO_MSBUILD defined to test the patcher itself. It never writes to its input in
// place: the patched bytes go to a temporary file that is renamed over the output copy, so a hard link
// into the NuGet cache can never be modified.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

#if !DIFFLAB_NO_MSBUILD
public class WeakenElfVersionNeeds : Microsoft.Build.Utilities.Task
{
    [Microsoft.Build.Framework.Required]
    public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

    /// <summary>Semicolon-separated version names, e.g. "GLIBCXX_3.4.32".</summary>
    [Microsoft.Build.Framework.Required]
    public string Versions { get; set; } = "";

    public override bool Execute()
    {
        var versions = Versions.Split(new[] { ';', ',' }, StringSplitOptions.RemoveEmptyEntries);
        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            try
            {
                var changed = ElfVersionPatcher.WeakenVersionNeeds(path, versions);
                if (changed.Count > 0)
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                        "DiffusionLab: marked {0} weak in {1}", string.Join(", ", changed), path);
            }
            catch (Exception e)
            {
                Log.LogError("DiffusionLab: could not patch {0}: {1}", path, e.Message);
                return false;
            }
        }
        return true;
    }
}
#endif

/// <summary>One version requirement (Elf64_Vernaux) of a shared library.</summary>
// A plain class, not a record: MSBuild compiles this file against netstandard2.0.
public sealed class ElfVersionNeed
{
    public ElfVersionNeed(string file, string name, ushort flags) { File = file; Name = name; Flags = flags; }
    public string File { get; }
    public string Name { get; }
    public ushort Flags { get; }
    public bool IsWeak => (Flags & ElfVersionPatcher.VerFlagWeak) != 0;
}

public static class ElfVersionPatcher
{
    public const ushort VerFlagWeak = 0x2;       // VER_FLG_WEAK
    private const uint ShtGnuVerneed = 0x6ffffffe; // SHT_GNU_verneed

    /// <summary>Lists every (library, version) requirement in the .gnu.version_r section.</summary>
    public static IReadOnlyList<ElfVersionNeed> ReadVersionNeeds(string path) =>
        ReadVersionNeeds(File.ReadAllBytes(path), path);

    public static IReadOnlyList<ElfVersionNeed> ReadVersionNeeds(byte[] elf, string pathForErrors = "<bytes>")
    {
        var result = new List<ElfVersionNeed>();
        foreach (var (file, name, flagsOffset) in EnumerateVernaux(elf, pathForErrors))
            result.Add(new ElfVersionNeed(file, name, U16(elf, flagsOffset)));
        return result;
    }

    /// <summary>
    /// Sets VER_FLG_WEAK on the named version requirements. Returns the names it changed; an empty list
    /// when nothing needed changing, in which case the file is not rewritten (idempotent, keeps mtime).
    /// </summary>
    public static IReadOnlyList<string> WeakenVersionNeeds(string path, IEnumerable<string> versions)
    {
        var elf = File.ReadAllBytes(path);
        var changed = WeakenVersionNeeds(elf, versions, path);
        if (changed.Count == 0) return changed;
        // Copy first so the temporary file keeps the original's permissions, then rename it over the
        // output copy (File.Replace is a rename on Unix; this file also compiles against netstandard2.0).
        var tmp = path + ".difflab-tmp";
        File.Copy(path, tmp, overwrite: true);
        try
        {
            File.WriteAllBytes(tmp, elf);
            File.Replace(tmp, path, destinationBackupFileName: null);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
        return changed;
    }

    /// <summary>In-memory form of <see cref="WeakenVersionNeeds(string, IEnumerable{string})"/>.</summary>
    public static IReadOnlyList<string> WeakenVersionNeeds(byte[] elf, IEnumerable<string> versions, string pathForErrors = "<bytes>")
    {
        var wanted = new HashSet<string>(versions, StringComparer.Ordinal);
        var changed = new List<string>();
        foreach (var (_, name, flagsOffset) in EnumerateVernaux(elf, pathForErrors))
        {
            if (!wanted.Contains(name)) continue;
            var flags = U16(elf, flagsOffset);
            if ((flags & VerFlagWeak) != 0) continue;
            flags |= VerFlagWeak;
            elf[flagsOffset] = (byte)(flags & 0xff);
            elf[flagsOffset + 1] = (byte)(flags >> 8);
            changed.Add(name);
        }
        return changed;
    }

    // Walks Elf64_Verneed / Elf64_Vernaux (ELF gABI, symbol versioning), yielding the needed file, the
    // version name and the byte offset of vna_flags.
    private static IEnumerable<(string File, string Name, int FlagsOffset)> EnumerateVernaux(byte[] elf, string path)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException($"{path} is not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException($"{path} is not a 64-bit little-endian ELF file");

        long shoff = (long)U64(elf, 0x28);
        int shentsize = U16(elf, 0x3A), shnum = U16(elf, 0x3C);
        if (shoff <= 0 || shentsize < 64 || shoff + (long)shentsize * shnum > elf.Length)
            throw new InvalidDataException($"{path} has no readable section header table");

        for (int i = 0; i < shnum; i++)
        {
            int sh = checked((int)(shoff + (long)i * shentsize));
            if (U32(elf, sh + 4) != ShtGnuVerneed) continue;
            int offset = checked((int)U64(elf, sh + 24));
            int size = checked((int)U64(elf, sh + 32));
            int link = (int)U32(elf, sh + 40);
            int count = (int)U32(elf, sh + 44);
            if (link >= shnum || offset + size > elf.Length)
                throw new InvalidDataException($"{path} has a malformed .gnu.version_r section");
            int strSh = checked((int)(shoff + (long)link * shentsize));
            int strOff = checked((int)U64(elf, strSh + 24));
            int strSize = checked((int)U64(elf, strSh + 32));

            int vn = offset;
            for (int n = 0; n < count; n++)
            {
                if (vn + 16 > offset + size) throw new InvalidDataException($"{path}: Verneed entry out of bounds");
                int vnCnt = U16(elf, vn + 2);
                string file = Str(elf, strOff, strSize, U32(elf, vn + 4), path);
                int aux = vn + (int)U32(elf, vn + 8);
                for (int a = 0; a < vnCnt; a++)
                {
                    if (aux + 16 > offset + size) throw new InvalidDataException($"{path}: Vernaux entry out of bounds");
                    yield return (file, Str(elf, strOff, strSize, U32(elf, aux + 8), path), aux + 4);
                    uint next = U32(elf, aux + 12);
                    if (next == 0) break;
                    aux += (int)next;
                }
                uint vnNext = U32(elf, vn + 12);
                if (vnNext == 0) break;
                vn += (int)vnNext;
            }
        }
    }

    private static string Str(byte[] elf, int strOff, int strSize, uint index, string path)
    {
        if (index >= strSize) throw new InvalidDataException($"{path}: string index out of bounds");
        int start = strOff + (int)index, end = start;
        while (end < strOff + strSize && elf[end] != 0) end++;
        return Encoding.ASCII.GetString(elf, start, end - start);
    }

    private static ushort U16(byte[] b, int o) => (ushort)(b[o] | b[o + 1] << 8);
    private static uint U32(byte[] b, int o) => (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24);
    private static ulong U64(byte[] b, int o) => U32(b, o) | (ulong)U32(b, o + 4) << 32;
}
