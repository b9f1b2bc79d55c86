using System.Collections;
using System.Diagnostics;
using System.Text.Json;
using DiffusionLab.Models;
using DiffusionLab.Runs;
using DiffusionLab.Tests.Cli;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Models;

/// <summary>
/// Weights cross to PyTorch and back: a PyTorch model (benchmarks/peers' modules, which have DiffusionLab's field names)
/// is imported and gives PyTorch's outputs; DiffusionLab's exports load into PyTorch with load_state_dict(strict=True)
/// and give DiffusionLab's outputs. Runs Debian's python3-torch (/usr/bin/python3); skipped where it is absent.
/// </summary>
public class PyTorchInteropTests
{
    private const string Python = "/usr/bin/python3";

    // float32 through the same operations in another library build: the outputs differ in rounding only; 1e-5 is what the
    // interchange asks for, a thousand times float32's spacing at these outputs' size
    private const double Tolerance = 1e-5;

    private static string Script => RepositoryPaths.Of("benchmarks/peers/interop.py");

    private static bool PyTorchPresent()
    {
        if (!File.Exists(Python)) return false;
        var (code, _) = RunPython("-c", "import torch, numpy");
        return code == 0;
    }

    private static (int Code, string Output) RunPython(params string[] args)
    {
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.Result);
    }

    /// <summary>A small class-conditional attention U-Net's config.json (16 px RGB, attention at 8 px, 3 classes).</summary>
    private static string TinyUNetConfig(string dir)
    {
        var config = new ImageRunConfig
        {
            Dataset = "folder:none", Model = "unet", Channels = 3, ImageSize = 16, ClassNames = ["a", "b", "c"],
            UNet = new DdpmUNetConfig { Ch = 16, ChMult = [1, 2], NumResBlocks = 1, AttnResolutions = [8], Dropout = 0.1 },
            Schedule = "cosine", DiffusionSteps = 100,
        };
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, ImageRun.ConfigFile), JsonSerializer.Serialize(config));
        return dir;
    }

    /// <summary>The network's output on io.pt's inputs, in evaluation mode.</summary>
    private static Tensor Forward(ImageRun m, Dictionary<string, Tensor> io)
    {
        using var noGrad = torch.no_grad();
        return ((IClassConditionalNetwork)m.Network).Forward(io["x"], io["t"], io["labels"]);
    }

    private static Dictionary<string, Tensor> ReadIo(string path) =>
        PyTorchUnpickler.UnpickleStateDict(path).Cast<DictionaryEntry>().ToDictionary(e => (string)e.Key, e => (Tensor)e.Value!);

    [SkippableFact]
    public void APyTorchCheckpointImportsAndDiffusionLabsExportsLoadInPyTorch()
    {
        Skip.IfNot(PyTorchPresent(), $"{Python} with torch and numpy is not installed (apt-get install python3-torch)");
        var dir = CliRunner.Temp("difflab-interop");
        var config = TinyUNetConfig(Path.Combine(dir, "config"));
        var peer = Path.Combine(dir, "peer");
        var (code, output) = RunPython(Script, "checkpoint", "--config", Path.Combine(config, ImageRun.ConfigFile), "--out", peer, "--seed", "3");
        Assert.True(code == 0, output);

        // PyTorch → DiffusionLab: the imported model computes PyTorch's outputs
        var imported = Path.Combine(dir, "imported");
        var (c, o, e) = CliRunner.Run("import", "--config", config, "--weights", Path.Combine(peer, "peer.pt"), "--out", imported);
        Assert.True(c == 0, e);
        var io = ReadIo(Path.Combine(peer, "io.pt"));
        using (var m = ImageRun.Load(imported))
        using (var ours = Forward(m, io))
        {
            double diff = (ours - io["out"]).abs().max().item<float>();
            Assert.True(diff <= Tolerance, $"imported model differs from PyTorch by {diff}");
            Assert.True(io["out"].abs().max().item<float>() > 0.1, "the outputs are too small to compare");
        }

        // DiffusionLab → PyTorch: both formats load with load_state_dict(strict=True) and give the same outputs
        foreach (var format in new[] { "pt", "safetensors" })
        {
            var exported = Path.Combine(dir, $"export-{format}");
            (c, o, e) = CliRunner.Run("export", "--run", imported, "--format", format, "--out", exported);
            Assert.True(c == 0, e);
            Assert.False(File.Exists(Path.Combine(exported, ImageRun.WeightsFile)));
            (code, output) = RunPython(Script, "check", "--config", Path.Combine(exported, ImageRun.ConfigFile),
                "--weights", Path.Combine(exported, StateDictFile.FileName(format)), "--io", Path.Combine(peer, "io.pt"));
            Assert.True(code == 0, output);
        }

        // an exported model is a model folder: it samples the same images as the model it came from
        var a = Path.Combine(dir, "sample-imported");
        var b = Path.Combine(dir, "sample-exported");
        foreach (var (model, outDir) in new[] { (imported, a), (Path.Combine(dir, "export-pt"), b) })
        {
            (c, _, e) = CliRunner.Run("sample", "--model", model, "--class", "all", "--n", "3", "--steps", "3", "--seed", "5", "--out", outDir);
            Assert.True(c == 0, e);
        }
        foreach (var f in Directory.GetFiles(Path.Combine(a, "images")))
            Assert.Equal(File.ReadAllBytes(f), File.ReadAllBytes(Path.Combine(b, "images", Path.GetFileName(f))));
        foreach (var t in io.Values) t.Dispose();
    }

    [SkippableFact]
    public void TheShippedMnistModelLoadsInPyTorch()
    {
        Skip.IfNot(PyTorchPresent(), $"{Python} with torch and numpy is not installed (apt-get install python3-torch)");
        var shipped = Path.Combine(AppContext.BaseDirectory, "models", "mnist-cs180-class");
        var dir = CliRunner.Temp("difflab-interop-mnist");
        var exported = Path.Combine(dir, "export");
        var (c, _, e) = CliRunner.Run("export", "--run", shipped, "--format", "pt", "--out", exported);
        Assert.True(c == 0, e);
        using var m = ImageRun.Load(shipped);
        var g = TensorOps.SeededGenerator(1);
        var io = new Dictionary<string, Tensor>
        {
            ["x"] = torch.randn([4, 1, 28, 28], generator: g),
            ["t"] = torch.rand([4], generator: g),
            ["labels"] = torch.tensor(new long[] { 0, 3, -1, 9 }),
        };
        io["out"] = Forward(m, io);
        // The tolerance comes from this forward pass's own float32 rounding: its distance from the same pass in float64.
        // PyTorch's kernels sum in another order, so their float32 error is of the same size but not the same; the two
        // outputs may differ by up to the sum of both errors — 4× ours leaves room for kernels a little less exact.
        double rounding;
        using (torch.no_grad())
        {
            m.Network.to(ScalarType.Float64);
            using var exact = ((IClassConditionalNetwork)m.Network).Forward(io["x"].to(ScalarType.Float64), io["t"].to(ScalarType.Float64), io["labels"]);
            rounding = (io["out"].to(ScalarType.Float64) - exact).abs().max().item<double>();
            m.Network.to(ScalarType.Float32);
        }
        Assert.True(rounding > 0 && rounding < 1e-3, $"float32 against float64: {rounding:G3}");
        var ioPath = Path.Combine(dir, "io.pt");
        PyTorchPickler.PickleStateDict(ioPath, io);
        var (code, output) = RunPython(Script, "check", "--config", Path.Combine(exported, ImageRun.ConfigFile),
            "--weights", Path.Combine(exported, "model.pt"), "--io", ioPath,
            "--tolerance", (4 * rounding).ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(code == 0, $"{output} (this pass's float32 rounding: {rounding:G3})");
        foreach (var t in io.Values) t.Dispose();
    }

    [Fact]
    public void WeightsOfAnotherNetworkAreOneClearError()
    {
        var dir = CliRunner.Temp("difflab-interop-bad");
        var config = TinyUNetConfig(Path.Combine(dir, "config"));
        // the shipped MNIST model's weights against the tiny U-Net's config: every name differs
        var exported = Path.Combine(dir, "mnist");
        Assert.Equal(0, CliRunner.Run("export", "--run", Path.Combine(AppContext.BaseDirectory, "models", "mnist-cs180-class"), "--format", "safetensors", "--out", exported).Code);
        var (c, _, e) = CliRunner.Run("import", "--config", config, "--weights", Path.Combine(exported, "model.safetensors"), "--out", Path.Combine(dir, "x"));
        Assert.Equal(1, c);
        Assert.Contains("does not fit this network (missing", e);
        Assert.Single(e.Trim().Split('\n'));
        var junk = Path.Combine(dir, "junk.pt");
        File.WriteAllText(junk, "not a pickle");
        (c, _, e) = CliRunner.Run("import", "--config", config, "--weights", junk, "--out", Path.Combine(dir, "y"));
        Assert.Equal(1, c);
        Assert.Contains("is not a readable PyTorch state_dict file", e);
        (c, _, e) = CliRunner.Run("export", "--run", exported, "--format", "onnx", "--out", Path.Combine(dir, "z"));
        Assert.Equal(1, c);
        Assert.Contains("unknown weights", e);
    }
}
