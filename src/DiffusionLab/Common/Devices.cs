
namespace DiffusionLab;

/// <summary>Turns a --device value into a torch device, with a clear error when it is not available.</summary>
public static class Devices
{
    public static torch.Device Resolve(string name)
    {
        var n = name.Trim().ToLowerInvariant();
        if (n == "cpu") return torch.CPU;
        if (n == "cuda" || n.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new DiffusionLabException($"device '{name}' is not available: this build of TorchSharp has no CUDA support or no GPU is present (use `device` cpu)");
            return new torch.Device(n);
        }
        throw new DiffusionLabException($"unknown device '{name}' (use cpu or cuda[:N])");
    }
}
