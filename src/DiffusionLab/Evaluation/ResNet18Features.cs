using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace DiffusionLab.Evaluation;

/// <summary>
/// FID features from a real ImageNet network: the ResNet-18 (He et al. 2016) that ML.NET's image featurizer ships as
/// ONNX (NuGet <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>, MIT), run with ONNX Runtime. The features are its
/// 512-wide global average pool, the layer before the ImageNet classifier — the role Inception-v3's pool3 plays in
/// Heusel et al. 2017's FID, on a smaller network, so the numbers are not comparable with Inception FIDs from papers.
/// <para>
/// The package runs two graphs: <c>ResNetPreprocess.onnx</c> takes RGB planes in [0, 255] at 224×224 (what ML.NET's
/// <c>ExtractPixels</c> gives by default) and returns BGR planes minus a mean image (the Caffe convention the CNTK
/// network was trained with); <c>ResNet18.onnx</c> takes that. Both have a fixed batch of one. Images are scaled from
/// [−1, 1] to [0, 255], grey ones repeated to three channels, and resized to 224×224 bilinearly (area-averaged when
/// larger), as pytorch-fid resizes to Inception's 299.
/// </para>
/// </summary>
public sealed class ResNet18Features : IFeatureNetwork, IDisposable
{
    public const int InputSize = 224;
    public const int FeatureCount = 512;
    /// <summary>Where the package's build step copies the two graphs, next to the program.</summary>
    public static string ModelDirectory => Path.Combine(AppContext.BaseDirectory, "DnnImageModels");
    private static string PreprocessPath => Path.Combine(ModelDirectory, "ResNetPrepOnnx", "ResNetPreprocess.onnx");
    private static string NetworkPath => Path.Combine(ModelDirectory, "ResNet18Onnx", "ResNet18.onnx");

    private readonly InferenceSession _preprocess;
    private readonly InferenceSession _network;
    private readonly string _preprocessInput, _networkInput;

    static ResNet18Features() => Runtime.NativeRuntime.Configure();

    public ResNet18Features(int? threads = null)
    {
        foreach (var path in new[] { PreprocessPath, NetworkPath })
            if (!File.Exists(path))
                throw new DiffusionLabException($"the ResNet-18 ONNX graphs are missing ({path}); they come with the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18, which the build copies next to the program: rebuild");
        using var options = new SessionOptions { IntraOpNumThreads = threads ?? Runtime.NativeRuntime.Threads, InterOpNumThreads = 1 };
        _preprocess = new InferenceSession(PreprocessPath, options);
        _network = new InferenceSession(NetworkPath, options);
        _preprocessInput = _preprocess.InputMetadata.Keys.Single();
        _networkInput = _network.InputMetadata.Keys.Single();
        CacheKey = "resnet18-" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(NetworkPath)))[..12].ToLowerInvariant();
    }

    public string Description => "ResNet-18 ImageNet features";

    public string CacheKey { get; }

    public void CheckImages(ImageSet set)
    {
        if (set.Channels is not (1 or 3))
            throw new DiffusionLabException($"{set.Name} has {set.Channels} channels; ResNet-18 features need grey or RGB images");
    }

    /// <summary>
    /// What the preprocessing graph expects, from images [N, C, H, W] in [−1, 1]: RGB planes [N, 3, 224, 224] in
    /// [0, 255] (float32).
    /// </summary>
    public static Tensor ToNetworkInput(Tensor images)
    {
        using var scope = torch.NewDisposeScope();
        var x = images.to_type(ScalarType.Float32);
        if (x.shape[1] == 1) x = x.expand(-1, 3, -1, -1);
        var pixels = ((x.clamp(-1, 1) + 1) * 127.5f).contiguous();
        long h = pixels.shape[2], w = pixels.shape[3];
        Tensor resized = h == InputSize && w == InputSize ? pixels
            : h > InputSize || w > InputSize
                ? nn.functional.interpolate(pixels, [InputSize, InputSize], mode: InterpolationMode.Area)
                : nn.functional.interpolate(pixels, [InputSize, InputSize], mode: InterpolationMode.Bilinear, align_corners: false);
        return resized.contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>The preprocessing graph's output for one input [1, 3, 224, 224] (for tests of what it expects).</summary>
    internal float[] Preprocess(float[] rgb)
    {
        var input = new DenseTensor(rgb, [1, 3, InputSize, InputSize]);
        using var result = _preprocess.Run([NamedOnnxValue.CreateFromTensor(_preprocessInput, input)]);
        return result.First().AsTensor<float>().ToArray();
    }

    public Tensor Features(Tensor images, Action<long, long>? onProgress = null)
    {
        long n = images.shape[0];
        var features = new double[n * FeatureCount];
        var one = new float[3 * InputSize * InputSize];
        const int chunk = 32; // images resized at a time: bounded memory for any n
        for (long s = 0; s < n; s += chunk)
        {
            long e = Math.Min(n, s + chunk);
            using var scope = torch.NewDisposeScope();
            var input = ToNetworkInput(images[(int)s..(int)e]);
            var all = input.data<float>();
            for (long i = s; i < e; i++)
            {
                all.CopyTo(one, 0, (i - s) * one.Length);
                var prepared = new DenseTensor(Preprocess(one), [1, 3, InputSize, InputSize]);
                using var result = _network.Run([NamedOnnxValue.CreateFromTensor(_networkInput, prepared)]);
                var f = result.First().AsTensor<float>().ToArray();
                if (f.Length != FeatureCount) throw new InvalidOperationException($"ResNet-18 gave {f.Length} features, expected {FeatureCount}");
                for (int k = 0; k < FeatureCount; k++) features[i * FeatureCount + k] = f[k];
            }
            onProgress?.Invoke(e, n);
        }
        return torch.tensor(features, [n, FeatureCount], ScalarType.Float64);
    }

    public void Dispose()
    {
        _preprocess.Dispose();
        _network.Dispose();
    }
}
