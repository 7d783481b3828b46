using Qmmm.Host.IO;
using Qmmm.Numerics;
using Xunit;

namespace Qmmm.Host.Tests;

/// <summary>
/// Extended XYZ reading and writing. Truth: files written by ASE 3.22.1 (data/make_golden.py states every value they
/// hold, so the expectations below are typed from that script, not produced by our reader) and ASE's documented
/// conventions (Lattice rows, column-major 3×3 info matrices, bare keys mean T).
/// </summary>
public class ExtXyzTests
{
    private static string Data(string name) => TestPaths.Data(name);

    [Fact]
    public void ReadsAsesPeriodicFileWithResultsExtraColumnsAndInfoKeys()
    {
        var s = Assert.Single(ExtXyz.Read(Data("ase_bcc_w.xyz")));
        Assert.Equal(16, s.Count);
        Assert.All(s.Species, sp => Assert.Equal("W", sp));
        Assert.Equal(new[] { true, true, true }, s.Pbc);
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                Assert.Equal(i == j ? 6.2868 : 0.0, s.Cell[i, j]);
            }
        }

        // Atom 3 is the displaced one: (a/2, a/2, 3a/2) + (0.01, -0.02, 0.03) with a = 3.1434.
        Assert.Equal(1.5817, s.Positions[3, 0]);
        Assert.Equal(1.5517, s.Positions[3, 1]);
        Assert.Equal(4.7451, s.Positions[3, 2]);
        Assert.Equal(4.7151, s.Positions[15, 0]);

        Assert.Equal(-142.123456789, s.Energy);
        Assert.NotNull(s.Forces);
        Assert.NotNull(s.SiteEnergies);
        for (var i = 0; i < 16; i++)
        {
            Assert.Equal(0.001 * i, s.Forces![i, 0], 1e-12);
            Assert.Equal(-0.002 * i, s.Forces[i, 1], 1e-12);
            Assert.Equal(0.003 * (i % 4), s.Forces[i, 2], 1e-12);
            Assert.Equal(-8.8 - (0.001 * i), s.SiteEnergies![i], 1e-12);
        }

        var w = new double[,] { { 1.5, 0.25, -0.125 }, { 0.25, -2.0, 0.5 }, { -0.125, 0.5, 3.0 } };
        var volume = 6.2868 * 6.2868 * 6.2868;
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                Assert.Equal(w[i, j], s.Virial![i, j]);
                Assert.Equal(-w[i, j] / volume, s.Stress![i, j], 1e-17);
            }
        }

        Assert.Equal(["tags", "momenta", "region", "fixed"], s.Columns.Select(c => c.Name));
        var tags = s.Columns[0];
        Assert.Equal(XyzColumnKind.Integer, tags.Kind);
        Assert.Equal(Enumerable.Range(0, 16).Select(i => (long)(i % 3)), tags.Integers!);
        var momenta = s.Columns[1];
        Assert.Equal(3, momenta.Width);
        for (var i = 0; i < 16; i++)
        {
            Assert.Equal(0.1 * i, momenta.Reals![3 * i], 1e-12);
            Assert.Equal(-0.2 * i, momenta.Reals[(3 * i) + 1], 1e-12);
            Assert.Equal(0.05, momenta.Reals[(3 * i) + 2]);
        }

        Assert.Equal(Enumerable.Range(0, 16).Select(i => i < 4 ? "QM" : "MM"), s.Columns[2].Strings!);
        Assert.Equal(Enumerable.Range(0, 16).Select(i => i % 2 == 0), s.Columns[3].Logicals!);

        Assert.Equal(["note", "step", "temperature", "relaxed"], s.Info.Keys);
        Assert.Equal("made by ASE", s.Info["note"]);
        Assert.Equal("7", s.Info["step"]);
        Assert.Equal("300.5", s.Info["temperature"]);
        Assert.Equal("T", s.Info["relaxed"]);
        Assert.Equal(Data("ase_bcc_w.xyz"), s.Source);
        Assert.Equal(3, s.FirstAtomLine);
    }

    [Fact]
    public void ReadsLatticeRowsAndColumnMajorInfoMatricesAsAseDoes()
    {
        var s = Assert.Single(ExtXyz.Read(Data("ase_triclinic.xyz")));
        var h = 3.1434 / 2;
        var a = new double[,] { { -h, h, h }, { h, -h, h }, { h, h, -h } };
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                Assert.Equal(a[i, j], s.Cell[i, j]);
                Assert.Equal((3 * i) + j + 1.0, s.Virial![i, j]); // ASE's info['virial'] was [[1,2,3],[4,5,6],[7,8,9]]
            }
        }

        Assert.Null(s.Stress);
        Assert.Equal("_JSON [\"core\", \"far field\"]", s.Info["labels"]);
    }

    [Fact]
    public void ReadsAClusterWithoutLatticeAsNoCellAndNoPeriodicity()
    {
        var s = Assert.Single(ExtXyz.Read(Data("ase_cluster.xyz")));
        Assert.False(s.HasCell);
        Assert.Equal(new[] { false, false, false }, s.Pbc);
        Assert.Equal(2.7222, s.Positions[1, 0]);
        Assert.Equal(1e-3, s.Positions[2, 2]);
        Assert.Null(s.Energy);
        Assert.Empty(s.Columns);
        Assert.Empty(s.Info);
    }

    [Fact]
    public void ReadsEveryFrameOfAMultiFrameFile()
    {
        var frames = ExtXyz.Read(Data("ase_quasi2d_frames.xyz"));
        Assert.Equal(2, frames.Length);
        Assert.Equal(2, frames[0].Count);
        Assert.Equal(3, frames[1].Count);
        Assert.Equal(-17.5, frames[0].Energy);
        Assert.Equal(-26.25, frames[1].Energy);
        Assert.All(frames, f => Assert.Equal(new[] { false, false, true }, f.Pbc));
        Assert.Equal(3.1434, frames[1].Cell[2, 2]);
        Assert.Equal(3.1434, frames[1].Positions[2, 0]);
        Assert.Equal(7, frames[1].FirstAtomLine);
    }

    [Fact]
    public void WriteThenReadPreservesEverythingInAnAseFile()
    {
        var original = ExtXyz.Read(Data("ase_bcc_w.xyz"))
            .Concat(ExtXyz.Read(Data("ase_triclinic.xyz")))
            .Concat(ExtXyz.Read(Data("ase_cluster.xyz")))
            .Concat(ExtXyz.Read(Data("ase_quasi2d_frames.xyz")))
            .ToArray();
        var back = ExtXyz.Parse(ExtXyz.ToText(original), "roundtrip.xyz");
        Assert.Equal(original.Length, back.Length);
        for (var f = 0; f < original.Length; f++)
        {
            AssertSameStructure(original[f], back[f]);
        }
    }

    [Fact]
    public void WriteThenReadIsExactForAwkwardNumbersAndInfoValues()
    {
        var s = new Structure(
            ["W", "Si"],
            new double[,] { { 1.0 / 3.0, -0.0, 1e-300 }, { 123456.789012345, -2.5e-7, double.Epsilon } },
            new double[,] { { 10.1, 0.2, 0.0 }, { 0.0, 9.9, 0.0 }, { 0.0, 0.0, Math.PI } },
            [true, false, true])
        {
            Energy = -1.0 / 7.0,
            SiteEnergies = [-1e-20, 1e20],
            Forces = new double[,] { { 0.1, 0.2, 0.3 }, { -0.1, -0.2, -0.3 } },
            Virial = new double[,] { { 1, 2, 3 }, { 4, 5, 6 }, { 7, 8, 9.5 } },
            Stress = new double[,] { { -1, 0, 0 }, { 0, -2, 0 }, { 0, 0, -3 } },
        };
        s.Columns.Add(XyzColumn.Integer("id", 1, [long.MaxValue, -5]));
        s.Columns.Add(XyzColumn.Logical("mask", 3, [true, false, true, false, false, true]));
        s.Columns.Add(XyzColumn.Real("extra", 2, [double.NaN, double.PositiveInfinity, 0.1, -0.0]));
        s.Info["plain"] = "word";
        s.Info["spaced"] = "two words";
        s.Info["quoted"] = "say \"hi\"";
        s.Info["slash"] = "a\\b";
        s.Info["brackets"] = "{[x]}";
        s.Info["empty"] = "";
        s.Info["equals"] = "a=b";
        s.Info["vector"] = "1 2 3";

        var text = ExtXyz.ToText([s]);
        var back = Assert.Single(ExtXyz.Parse(text, "awkward.xyz"));
        AssertSameStructure(s, back);
        Assert.True(double.IsNegative(back.Positions[0, 1])); // -0.0 keeps its sign
    }

    [Fact]
    public void ALargeFrameRoundTripsExactly()
    {
        const int n = 10007; // more atoms than the reader's initial capacity
        var positions = new double[n, 3];
        var species = new string[n];
        var ids = new long[n];
        for (var i = 0; i < n; i++)
        {
            species[i] = i % 3 == 0 ? "W" : "Mo";
            positions[i, 0] = i * 0.1;
            positions[i, 1] = Math.Sin(i);
            positions[i, 2] = -i / 7.0;
            ids[i] = i * 1000003L;
        }

        var s = new Structure(species, positions);
        s.Columns.Add(XyzColumn.Integer("id", 1, ids));
        var back = Assert.Single(ExtXyz.Parse(ExtXyz.ToText([s]), "large.xyz"));
        AssertSameStructure(s, back);
    }

    [Fact]
    public void WrittenCommentLineFollowsAsesConventions()
    {
        var s = Assert.Single(ExtXyz.Read(Data("ase_triclinic.xyz")));
        s.Energy = -12.5;
        s.Forces = new double[,] { { 0.0, 0.0, 0.0 } };
        s.SiteEnergies = [-12.5];
        var lines = ExtXyz.ToText([s]).Split('\n');
        Assert.Equal("1", lines[0]);
        var comment = lines[1];
        // These fragments are ASE's own spellings (compare data/ase_triclinic.xyz, written by ASE).
        Assert.StartsWith("Lattice=\"-1.5717 1.5717 1.5717 1.5717 -1.5717 1.5717 1.5717 1.5717 -1.5717\" ", comment);
        Assert.Contains(" Properties=species:S:1:pos:R:3:forces:R:3:energies:R:1 ", comment);
        Assert.Contains(" virial=\"1.0 4.0 7.0 2.0 5.0 8.0 3.0 6.0 9.0\"", comment);
        Assert.Contains(" labels=\"_JSON [\\\"core\\\", \\\"far field\\\"]\"", comment);
        Assert.Contains(" energy=-12.5", comment);
        Assert.EndsWith(" pbc=\"T T T\"", comment);
        Assert.Equal(["W", "0.0", "0.0", "0.0", "0.0", "0.0", "0.0", "-12.5"], lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void AStructureWithoutCellIsWrittenWithoutLattice()
    {
        var s = new Structure(["W"], new double[,] { { 0, 0, 0 } });
        var comment = ExtXyz.ToText([s]).Split('\n')[1];
        Assert.Equal("Properties=species:S:1:pos:R:3 pbc=\"F F F\"", comment);
    }

    [Theory]
    [InlineData("a=1 b=\"x y\" c", new[] { "a", "1", "b", "x y", "c", "T" })]
    [InlineData("key = value  other= v2", new[] { "key", "value", "other", "v2" })]
    [InlineData("a=\"\" b=1", new[] { "a", "", "b", "1" })]
    [InlineData("m={1 2 3} n=[4,5] o='q r'", new[] { "m", "1 2 3", "n", "4,5", "o", "q r" })]
    [InlineData("s=\"a \\\"b\\\" c\" t=x\\ y", new[] { "s", "a \"b\" c", "t", "x y" })]
    [InlineData("e=a=b f=1 f=2", new[] { "e", "a=b", "f", "2" })]
    public void CommentLinePairsAreSplitAsAseSplitsThem(string line, string[] expected)
    {
        var d = ExtXyz.ParseCommentLine(line);
        var flat = d.SelectMany(kv => new[] { kv.Key, kv.Value }).ToArray();
        Assert.Equal(expected, flat);
    }

    [Theory]
    [InlineData("2\nProperties=species:S:1:pos:R:3\nW 0 0 0\nW abc 0 0\n", 4, "pos", 2, "expected a number, got 'abc'")]
    [InlineData("1\nProperties=species:S:1:pos:R:3\nW 0 NaN 0\n", 3, "pos", 3, "atom 0: coordinate y is nan, not a finite number")]
    [InlineData("2\n\nW 0 0 0\nW 1 inf 0\n", 4, "pos", 3, "atom 1: coordinate y is inf, not a finite number")]
    [InlineData("1\n\nW 0 0\n", 3, "pos", 4, "missing: the line has 3 columns, Properties declares 4")]
    [InlineData("1\n\nW 0 0 0 7\n", 3, "Properties", 5, "the line has 5 columns, Properties declares 4: '7' is extra")]
    [InlineData("x\n\n", 1, "atom count", 0, "expected a non-negative integer, got 'x'")]
    [InlineData("3\n\nW 0 0 0\n", 4, "atom count", 0, "the frame declares 3 atoms but the file ends after 1")]
    [InlineData("9999999\n\nW 0 0 0\n", 4, "atom count", 0, "the frame declares 9999999 atoms but the file ends after 1")]
    [InlineData("1\nLattice=\"1 0 0 0 1 0\"\nW 0 0 0\n", 2, "Lattice", 0, "expected 9 numbers, got 6 ('1 0 0 0 1 0')")]
    [InlineData("1\nLattice=\"1 0 0 0 1 0 0 0 x\"\nW 0 0 0\n", 2, "Lattice", 0, "expected a number, got 'x'")]
    [InlineData("1\npbc=\"T Q T\"\nW 0 0 0\n", 2, "pbc", 0, "expected T or F, got 'Q'")]
    [InlineData("1\nenergy=high\nW 0 0 0\n", 2, "energy", 0, "expected a number, got 'high'")]
    [InlineData("1\nProperties=species:S:1:pos:X:3\nW 0 0 0\n", 2, "Properties", 0, "column 'pos': unknown type 'X' (expected R, I, S or L)")]
    [InlineData("1\nProperties=species:S:1\nW\n", 2, "Properties", 0, "no 'pos:R:3' column")]
    [InlineData("1\nProperties=species:S:1:pos:R:3:forces:R:1\nW 0 0 0 1\n", 2, "Properties", 0, "column 'forces' must be forces:R:3, got forces:R:1")]
    [InlineData("1\nProperties=species:S:1:pos:R:3:n:I:1\nW 0 0 0 1.5\n", 3, "n", 5, "expected an integer, got '1.5'")]
    [InlineData("1\nProperties=species:S:1:pos:R:3:m:L:1\nW 0 0 0 yes\n", 3, "m", 5, "expected T or F, got 'yes'")]
    [InlineData("1\npbc=\"T T T\"\nW 0 0 0\n", 2, "pbc", 0, "axis 1 is periodic (T) but lattice vector a1 is missing (no Lattice)")]
    [InlineData("1\nLattice=\"0 0 0 0 2 0 0 0 2\" pbc=\"T F F\"\nW 0 0 0\n", 2, "pbc", 0, "axis 1 is periodic (T) but lattice vector a1 is zero")]
    public void MalformedInputRaisesAnErrorNamingFileLineAndField(string text, int line, string field, int column, string what)
    {
        var e = Assert.Throws<ExtXyzFormatException>(() => ExtXyz.Parse(text, "bad.xyz"));
        Assert.Equal("bad.xyz", e.File);
        Assert.Equal(line, e.Line);
        Assert.Equal(field, e.Field);
        Assert.Equal(column, e.Column);
        Assert.Equal(what, e.What);
        var expected = column > 0 ? $"bad.xyz:{line}: field '{field}' (column {column}): {what}" : $"bad.xyz:{line}: field '{field}': {what}";
        Assert.Equal(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.IsAssignableFrom<QmmmInputException>(e);
    }

    [Fact]
    public void TheExampleErrorOfTheSpecificationIsProducedVerbatim()
    {
        var e = Assert.Throws<ExtXyzFormatException>(() => ExtXyz.Parse("1\nProperties=species:S:1:pos:R:3\nW abc 0 0\n", "cell.xyz"));
        Assert.Equal("cell.xyz:3: field 'pos' (column 2): expected a number, got 'abc'", e.Message);
    }

    [Fact]
    public void AMissingFileIsAQmmmInputExceptionNamingThePath()
    {
        var path = Path.Combine(Path.GetTempPath(), "qmmm-no-such-file-" + Guid.NewGuid().ToString("N") + ".xyz");
        var e = Assert.Throws<QmmmInputException>(() => ExtXyz.Read(path));
        Assert.Equal($"{path}: no such file", e.Message);
    }

    [Fact]
    public void ErrorsInAFileNameTheFileAsGiven()
    {
        var path = Path.Combine(Path.GetTempPath(), "qmmm-bad-" + Guid.NewGuid().ToString("N") + ".xyz");
        File.WriteAllText(path, "2\nLattice=\"3 0 0 0 3 0 0 0 3\"\nW 0 0 0\nW 1.5 1.5 nan\n");
        try
        {
            var e = Assert.Throws<ExtXyzFormatException>(() => ExtXyz.Read(path));
            Assert.Equal($"{path}:4: field 'pos' (column 4): atom 1: coordinate z is nan, not a finite number", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TrailingBlankLinesAreAllowedButTextAfterABlankLineIsNot()
    {
        Assert.Single(ExtXyz.Parse("1\n\nW 0 0 0\n\n\n"));
        var e = Assert.Throws<ExtXyzFormatException>(() => ExtXyz.Parse("1\n\nW 0 0 0\n\n1\n", "gap.xyz"));
        Assert.Equal(5, e.Line);
    }

    [Fact]
    public void WritingANonFinitePositionIsRefused()
    {
        var s = new Structure(["W"], new double[,] { { 0, double.NaN, 0 } });
        var e = Assert.Throws<QmmmInputException>(() => ExtXyz.ToText([s]));
        Assert.Contains("atom 0: coordinate y is nan", e.Message);
    }

    internal static void AssertSameStructure(Structure a, Structure b)
    {
        Assert.Equal(a.Species, b.Species);
        AssertSame(a.Positions, b.Positions);
        AssertSame(a.Cell, b.Cell);
        Assert.Equal(a.Pbc, b.Pbc);
        Assert.Equal(a.Energy, b.Energy);
        AssertSame(a.Forces, b.Forces);
        AssertSame(a.Virial, b.Virial);
        AssertSame(a.Stress, b.Stress);
        if (a.SiteEnergies is null)
        {
            Assert.Null(b.SiteEnergies);
        }
        else
        {
            Assert.Equal(a.SiteEnergies, b.SiteEnergies!);
        }

        Assert.Equal(a.Columns.Count, b.Columns.Count);
        for (var c = 0; c < a.Columns.Count; c++)
        {
            Assert.Equal(a.Columns[c].Name, b.Columns[c].Name);
            Assert.Equal(a.Columns[c].Kind, b.Columns[c].Kind);
            Assert.Equal(a.Columns[c].Width, b.Columns[c].Width);
            Assert.Equal(a.Columns[c].Values.Cast<object>(), b.Columns[c].Values.Cast<object>());
        }

        Assert.Equal(a.Info.Select(kv => (kv.Key, kv.Value)), b.Info.Select(kv => (kv.Key, kv.Value)));
    }

    private static void AssertSame(double[,]? a, double[,]? b)
    {
        if (a is null)
        {
            Assert.Null(b);
            return;
        }

        Assert.NotNull(b);
        Assert.Equal(a.GetLength(0), b.GetLength(0));
        Assert.Equal(a.GetLength(1), b.GetLength(1));
        for (var i = 0; i < a.GetLength(0); i++)
        {
            for (var j = 0; j < a.GetLength(1); j++)
            {
                // Bitwise equality: the round trip must be exact, including the sign of zero.
                Assert.Equal(BitConverter.DoubleToInt64Bits(a[i, j]), BitConverter.DoubleToInt64Bits(b[i, j]));
            }
        }
    }
}
