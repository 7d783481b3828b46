using Qmmm.Host.IO;
using Xunit;

namespace Qmmm.Host.Tests;

/// <summary>Atomic output: a write that fails part-way leaves the existing file as it was and no temporary file behind.</summary>
public sealed class AtomicFileTests
{
    private static string[] Leftovers(string dir, string name) =>
        [.. Directory.GetFiles(dir, "." + name + ".*.tmp")];

    [Fact]
    public void AWriteThatFailsMidStreamLeavesTheTargetUntouched()
    {
        var path = TestPaths.Temp(".xyz");
        File.WriteAllText(path, "original content\n");
        try
        {
            var e = Assert.Throws<QmmmInputException>(() => AtomicFile.Write(path, stream =>
            {
                stream.Write(new byte[10_000]);
                throw new IOException("No space left on device"); // what a full disk raises part-way through
            }));
            Assert.Contains(path, e.Message, StringComparison.Ordinal);
            Assert.Contains("No space left on device", e.Message, StringComparison.Ordinal);
            Assert.Equal("original content\n", File.ReadAllText(path));
            Assert.Empty(Leftovers(Path.GetDirectoryName(path)!, Path.GetFileName(path)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AStructureThatCannotBeWrittenLeavesTheTargetUntouched()
    {
        var path = TestPaths.Temp(".xyz");
        File.WriteAllText(path, "original content\n");
        try
        {
            var s = Lattices.Bcc("W", 3.1434).Periodic(1, 1, 1);
            s.Info["energy"] = "1.0"; // reserved: the energy is a property
            Assert.Throws<QmmmInputException>(() => s.Save(path));
            Assert.Equal("original content\n", File.ReadAllText(path));
            Assert.Empty(Leftovers(Path.GetDirectoryName(path)!, Path.GetFileName(path)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ASuccessfulWriteReplacesTheTargetAndCanRewriteItsOwnInput()
    {
        var path = TestPaths.Temp(".xyz");
        try
        {
            var s = Lattices.Bcc("W", 3.1434).Periodic(2, 2, 2).Perturbed(3, 0.05);
            s.Save(path);
            var read = Structure.Load(path);
            var model = Models.Create("eam-w-marinica");
            read.WithResults(model.Evaluate(read)).Save(path); // -o equal to the input
            var back = Structure.Load(path);
            Assert.Equal(s.FlatPositions, back.FlatPositions);
            Assert.NotNull(back.Energy);
            Assert.Empty(Leftovers(Path.GetDirectoryName(path)!, Path.GetFileName(path)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TheChunkedParallelWriterFormatsEveryAtomLineAsTheSimpleFormula()
    {
        // 12,544 atoms cross the 4096-atom chunk boundaries; each line must be species padded to 2, then for each
        // coordinate ' ' + FormatReal(x) padded to 16 — the slow obvious formula, string by string
        var big = Lattices.Fcc("Ar", 5.3).Periodic(14, 14, 16).Perturbed(9, 0.1);
        Assert.True(big.Count > 3 * 4096);
        big.Positions[5, 0] = 1e-7; // an exponent
        big.Positions[6, 1] = 2.0; // an integer value gets ".0"
        var lines = ExtXyz.ToText([big]).Split('\n');
        Assert.Equal(big.Count + 3, lines.Length); // count, comment, atoms, trailing empty
        for (var i = 0; i < big.Count; i++)
        {
            var expected = big.Species[i].PadRight(2)
                + string.Concat(Enumerable.Range(0, 3).Select(k => " " + ExtXyz.FormatReal(big.Positions[i, k]).PadLeft(16)));
            Assert.Equal(expected, lines[2 + i]);
        }
    }
}
