using System.Text;
using DiffusionLab.Metrics;
using TorchSharp.PyBridge;

namespace DiffusionLab.Evaluation;

/// <summary>
/// A file of <see cref="FeatureSums"/> (<c>difflab eval stats</c>): safetensors, readable from Python
/// (<c>safetensors.numpy.load_file</c>), with the tensors <c>count</c> (int64 [1]), <c>sum</c> (float64 [D]),
/// <c>outer_sum</c> (float64 [D, D]) and the feature network's description and key as UTF-8 bytes (<c>features</c>,
/// <c>features_key</c>), so that sums of different networks are never merged.
/// </summary>
public static class FeatureSumsFile
{
    /// <summary>The extension a stats file is recognised by where an image set could be meant.</summary>
    public const string Extension = ".safetensors";

    public sealed record Contents(FeatureSums Sums, string Features, string FeaturesKey);

    public static bool IsStatsFile(string path) => path.EndsWith(Extension, StringComparison.OrdinalIgnoreCase) && File.Exists(path);

    /// <summary>Writes <paramref name="sums"/> of <paramref name="network"/>'s features atomically.</summary>
    public static void Save(string path, FeatureSums sums, IFeatureNetwork network)
    {
        using var scope = torch.NewDisposeScope();
        var flat = new double[sums.Dimension * sums.Dimension];
        Buffer.BlockCopy(sums.OuterSum, 0, flat, 0, flat.Length * sizeof(double));
        var tensors = new Dictionary<string, Tensor>
        {
            ["count"] = torch.tensor(new[] { sums.Count }),
            ["sum"] = torch.tensor(sums.Sum, dtype: ScalarType.Float64),
            ["outer_sum"] = torch.tensor(flat, [sums.Dimension, sums.Dimension], dtype: ScalarType.Float64),
            ["features"] = torch.tensor(Encoding.UTF8.GetBytes(network.Description)),
            ["features_key"] = torch.tensor(Encoding.UTF8.GetBytes(network.CacheKey)),
        };
        AtomicFile.Write(path, stream => Safetensors.SaveStateDict(stream, tensors, leaveOpen: true));
    }

    /// <summary>Reads a stats file; a file that is not one is a one-line error naming it.</summary>
    public static Contents Load(string path)
    {
        if (!File.Exists(path)) throw new DiffusionLabException($"{path} does not exist");
        Dictionary<string, Tensor> tensors;
        try { tensors = Safetensors.LoadStateDict(path); }
        catch (Exception e) when (e is not DiffusionLabException)
        {
            throw new DiffusionLabException($"{path} is not a safetensors file ({e.Message.Split('\n')[0]})");
        }
        try
        {
            foreach (var key in new[] { "count", "sum", "outer_sum", "features", "features_key" })
                if (!tensors.ContainsKey(key)) throw new DiffusionLabException($"{path} is not a DiffusionLab stats file (no '{key}'); write one with 'difflab eval stats'");
            var sum = tensors["sum"];
            var outer = tensors["outer_sum"];
            long d = sum.shape[0];
            if (sum.dim() != 1 || outer.dim() != 2 || outer.shape[0] != d || outer.shape[1] != d || tensors["count"].numel() != 1)
                throw new DiffusionLabException($"{path}: the stats' shapes do not agree (sum [{string.Join(", ", sum.shape)}], outer_sum [{string.Join(", ", outer.shape)}])");
            var outerArray = FeatureStatistics.ToArray2(outer.to_type(ScalarType.Float64), (int)d);
            var sums = new FeatureSums(tensors["count"].to_type(ScalarType.Int64).item<long>(), sum.to_type(ScalarType.Float64).data<double>().ToArray(), outerArray);
            string Text(string key) => Encoding.UTF8.GetString(tensors[key].to_type(ScalarType.Byte).data<byte>().ToArray());
            return new Contents(sums, Text("features"), Text("features_key"));
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }
}
