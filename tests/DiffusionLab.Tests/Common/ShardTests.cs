namespace DiffusionLab.Tests.Common;

public class ShardTests
{
    [Theory]
    [InlineData(7, 2, 3)]
    [InlineData(7, 2, 6)]
    [InlineData(100, 10, 4)]
    [InlineData(1, 100, 3)]
    [InlineData(0, 5, 2)]
    [InlineData(50_000, 100, 7)]
    public void ThePartsTileTheJobInWholeBatches(int n, int batch, int parts)
    {
        int next = 0;
        for (int k = 0; k < parts; k++)
        {
            var (from, to) = new Shard(k, parts).Range(n, batch);
            Assert.Equal(next, from); // contiguous, in order, no gap and no overlap
            Assert.True(to >= from);
            Assert.True(from % batch == 0, $"part {k} starts inside a batch ({from})");
            Assert.True(to % batch == 0 || to == n, $"part {k} ends inside a batch ({to})");
            next = to;
        }
        Assert.Equal(n, next);
        // parts differ by at most one batch
        var sizes = Enumerable.Range(0, parts).Select(k => new Shard(k, parts).Range(n, batch)).Select(r => (r.End - r.Start + batch - 1) / batch).ToList();
        Assert.True(sizes.Max() - sizes.Min() <= 1);
    }

    [Fact]
    public void ParsesKOverN()
    {
        Assert.Equal(new Shard(2, 5), Shard.Parse("2/5"));
        Assert.Equal("shard-2-of-5", Shard.Parse("2/5").FolderName);
        Assert.True(Shard.Parse("0/1").IsWhole);
        foreach (var bad in new[] { "5/5", "2", "-1/3", "1/-3", "a/2", "1/2/3", "", " 1/2" })
            Assert.Contains("shard must be K/N", Assert.Throws<DiffusionLabException>(() => Shard.Parse(bad)).Message);
    }
}
