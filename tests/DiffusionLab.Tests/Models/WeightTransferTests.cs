using DiffusionLab.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionLab.Tests.Models;

public class WeightTransferTests
{
    private static DdpmUNetConfig Trunk(int ch = 8) => new()
    {
        InChannels = 3, ImageSize = 8, Ch = ch, ChMult = [1, 2], NumResBlocks = 1, AttnResolutions = [4], Dropout = 0,
    };

    [Fact]
    public void AClassModelStartsATextModelWithItsTrunkAndTheNewModulesFresh()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        using var classModel = new DdpmUNet(Trunk() with { NumClasses = 4 });
        torch.manual_seed(2);
        using var textModel = new DdpmUNet(Trunk() with { Text = new TextEncoderConfig { VocabSize = 12, MaxTokens = 6, Width = 16, Layers = 1, Heads = 2 } });
        var before = textModel.state_dict().ToDictionary(e => e.Key, e => e.Value.clone());

        var report = WeightTransfer.CopyMatching(classModel, textModel, "class-model");

        var source = classModel.state_dict();
        var target = textModel.state_dict();
        int copied = 0;
        foreach (var (name, t) in target)
        {
            // a shared name now holds the source's values; a new one keeps its own initialisation exactly
            var expected = source.TryGetValue(name, out var s) ? s : before[name];
            Assert.True((t - expected).abs().max().item<float>() == 0, name);
            if (s is not null) copied++;
        }
        Assert.Equal(copied, report.Copied);
        Assert.Equal(target.Count, report.Total);
        Assert.True(report.Copied > report.Total / 2, $"{report.Copied} of {report.Total}: the trunk is most of the network");
        Assert.Contains("text_encoder", report.NewHere);
        Assert.Contains("text_proj", report.NewHere);
        Assert.Contains("mid_cross", report.NewHere);
        Assert.Contains(report.NewHere, m => m.StartsWith("down.") && m.EndsWith(".cross"));
        Assert.Equal(["class_emb"], report.NotUsed);
        var line = report.Describe("models/x");
        Assert.StartsWith($"initialised {report.Copied} of {report.Total} weights from models/x; new here (trained from scratch): ", line);
        Assert.EndsWith("; not used: class_emb", line);
    }

    [Fact]
    public void AnotherWidthOrAnotherKindOfNetworkIsAClearError()
    {
        using var scope = torch.NewDisposeScope();
        using var narrow = new DdpmUNet(Trunk(8));
        using var wide = new DdpmUNet(Trunk(16));
        var e = Assert.Throws<DiffusionLabException>(() => WeightTransfer.CopyMatching(narrow, wide, "runs/narrow"));
        Assert.Contains("runs/narrow is another network than this one (", e.Message);
        Assert.Matches(@"\w+\.weight is \[8(, \d+)*\] there, \[16(, \d+)*\] here", e.Message); // a weight named with both shapes
        using var cs180 = new Cs180UNet(new Cs180UNetConfig(Cs180Variant.Class, 3, 8, 8, 4));
        e = Assert.Throws<DiffusionLabException>(() => WeightTransfer.CopyMatching(cs180, wide, "models/cs180"));
        Assert.Equal("models/cs180 shares no weights with this network (another kind of model?)", e.Message);
    }
}
