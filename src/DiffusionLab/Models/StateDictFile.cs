using System.Collections;
using TorchSharp.PyBridge;

namespace DiffusionLab.Models;

/// <summary>
/// A network's weights in the formats PyTorch users load: safetensors (Hugging Face's format, read without running code)
/// and PyTorch's own <c>torch.save(model.state_dict())</c> pickle, through TorchSharp.PyBridge. The names are the
/// network's parameter names, which follow PyTorch's conventions (submodule fields joined by dots, list items by index),
/// so a PyTorch module with the same fields — the peers in benchmarks/peers — loads them with <c>load_state_dict</c>, and
/// a PyTorch state dict of such a module loads here. Loading checks every name and shape against the network first and
/// says what differs in one line.
/// </summary>
public static class StateDictFile
{
    /// <summary>The formats by name: <c>safetensors</c> (model.safetensors) and <c>pt</c> (model.pt).</summary>
    public static readonly IReadOnlyList<string> Formats = ["safetensors", "pt"];

    /// <summary>The file name a model folder uses for <paramref name="format"/>.</summary>
    public static string FileName(string format) => format switch
    {
        "safetensors" => "model.safetensors",
        "pt" => "model.pt",
        _ => throw new DiffusionLabException($"unknown weights `format` '{format}' (choose from {string.Join(", ", Formats)})"),
    };

    /// <summary>The format of a weights file, from its extension (.safetensors; .pt, .pth or .bin for a PyTorch pickle).</summary>
    public static string FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".safetensors" => "safetensors",
        ".pt" or ".pth" => "pt",
        _ => throw new DiffusionLabException($"{path}: weights must be a .safetensors or a PyTorch .pt/.pth state_dict file"),
    };

    /// <summary>Writes <paramref name="network"/>'s state dict to <paramref name="path"/> atomically, as float16 with <paramref name="half"/>.</summary>
    public static void Save(nn.Module network, string path, bool half = false)
    {
        string format = FormatOf(path);
        using var scope = torch.NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, t) in network.state_dict())
            tensors[name] = (half && t.is_floating_point() ? t.detach().to(ScalarType.Float16) : t.detach()).cpu().contiguous();
        AtomicFile.Write(path, stream =>
        {
            if (format == "safetensors") Safetensors.SaveStateDict(stream, tensors, leaveOpen: true);
            else PyTorchPickler.PickleStateDict(stream, tensors, leaveOpen: true);
        });
    }

    /// <summary>
    /// Copies the weights of <paramref name="path"/> into <paramref name="network"/> (converted to its types), after checking
    /// that the file has exactly the network's names with the same shapes.
    /// </summary>
    public static void Load(nn.Module network, string path)
    {
        string format = FormatOf(path);
        if (!File.Exists(path)) throw new DiffusionLabException($"{path} does not exist");
        Dictionary<string, Tensor> loaded;
        try
        {
            loaded = format == "safetensors"
                ? Safetensors.LoadStateDict(path)
                : PyTorchUnpickler.UnpickleStateDict(path).Cast<DictionaryEntry>().ToDictionary(e => (string)e.Key, e => (Tensor)e.Value!);
        }
        catch (Exception e) when (e is not DiffusionLabException)
        {
            throw new DiffusionLabException($"{path} is not a readable {(format == "pt" ? "PyTorch state_dict" : "safetensors")} file ({e.Message.Split('\n')[0]})");
        }
        try
        {
            var expected = network.state_dict();
            var missing = expected.Keys.Where(k => !loaded.ContainsKey(k)).ToList();
            var unexpected = loaded.Keys.Where(k => !expected.ContainsKey(k)).ToList();
            var shapes = expected.Keys.Where(loaded.ContainsKey)
                .Where(k => !expected[k].shape.SequenceEqual(loaded[k].shape))
                .Select(k => $"{k} is [{string.Join(", ", loaded[k].shape)}] in the file, [{string.Join(", ", expected[k].shape)}] here").ToList();
            if (missing.Count + unexpected.Count + shapes.Count > 0)
            {
                static string Some(IReadOnlyList<string> names) => string.Join(", ", names.Take(5)) + (names.Count > 5 ? $" and {names.Count - 5} more" : "");
                var problems = new List<string>();
                if (missing.Count > 0) problems.Add($"missing {Some(missing)}");
                if (unexpected.Count > 0) problems.Add($"not in the network: {Some(unexpected)}");
                if (shapes.Count > 0) problems.Add(Some(shapes));
                throw new DiffusionLabException($"{path} does not fit this network ({string.Join("; ", problems)}): check that the config describes the network the weights came from");
            }
            using var noGrad = torch.no_grad();
            foreach (var (name, target) in expected)
                target.copy_(loaded[name].to(target.dtype));
        }
        finally
        {
            foreach (var t in loaded.Values) t.Dispose();
        }
    }
}
