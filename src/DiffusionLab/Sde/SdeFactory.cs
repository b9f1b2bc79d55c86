namespace DiffusionLab.Sde;

/// <summary>Builds an SDE with its default settings from a name as given on the command line: ou, vp, subvp or ve.</summary>
public static class SdeFactory
{
    public static readonly IReadOnlyList<string> Names = ["ou", "vp", "subvp", "ve"];

    public static ISde Create(string name) => name.Trim().ToLowerInvariant() switch
    {
        "ou" => new OrnsteinUhlenbeckSde(),
        "vp" => new VpSde(),
        "subvp" or "sub-vp" => new SubVpSde(),
        "ve" => new VeSde(),
        _ => throw new DiffusionLabException($"unknown SDE '{name}' (choose from {string.Join(", ", Names)})"),
    };
}
