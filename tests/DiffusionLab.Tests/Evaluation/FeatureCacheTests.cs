using DiffusionLab.Data;
using DiffusionLab.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Evaluation;

/// <summary>
/// A data set's features are embedded once and read back from the data folder afterwards (the real side of every FID):
/// the second call must not run the network and must return the same features; a damaged cache is recomputed.
/// </summary>
public class FeatureCacheTests
{
    private sealed class CountingNetwork : IFeatureNetwork
    {
        public int Calls { get; private set; }
        public string Description => "counting test features";
        public string CacheKey => "counting-test";
        public void CheckImages(ImageSet set) { }
        public Tensor Features(Tensor images, Action<long, long>? onProgress = null)
        {
            Calls++;
            return images.flatten(1).to(ScalarType.Float64) * 2;
        }
    }

    [Fact]
    public void ASplitsFeaturesAreEmbeddedOnceThenReadFromTheCache()
    {
        string dataset = $"feature-cache-test-{Guid.NewGuid():N}";
        string folder = Path.Combine(ImageDatasets.DataDirectory, dataset);
        try
        {
            using var images = torch.rand(5, 1, 4, 4) * 2 - 1;
            using var set = new ImageSet($"{dataset}:train", images.alias(), null, dataset);
            var network = new CountingNetwork();
            using var first = FeatureCache.Features(network, set);
            Assert.Equal(1, network.Calls);
            Assert.Single(Directory.GetFiles(folder, "features-train-5-4px-counting-test.bin"));
            using var second = FeatureCache.Features(network, set);
            Assert.Equal(1, network.Calls); // read back, not embedded again
            Assert.Equal(0, (first - second).abs().max().item<double>());
            File.WriteAllText(Path.Combine(folder, "features-train-5-4px-counting-test.bin"), "damaged");
            using var third = FeatureCache.Features(network, set);
            Assert.Equal(2, network.Calls);
            Assert.Equal(0, (first - third).abs().max().item<double>());
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}
