using System.Globalization;
using System.Text;
using Qmmm.Host.IO;
using Xunit;

namespace Qmmm.Host.Tests;

/// <summary>
/// Hardened inputs (issue 6): every case a hostile user tried, through the API and the CLI, with the exact error
/// class, exit code and a message fragment naming the place (file, line, field) and, for a limit, the variable.
/// </summary>
[Collection(RegistryCollection.Name)]
public class LimitsTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = Cli.Cli.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private static string Fails(int expectedCode, params string[] args)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var (code, output, err) = Run(args);
        Assert.True(watch.Elapsed.TotalSeconds < 10, $"took {watch.Elapsed.TotalSeconds} s");
        Assert.Equal(expectedCode, code);
        Assert.Equal("", output);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("qmmm: error: ", lines[0]);
        Assert.DoesNotContain("System.", lines[0]);
        return lines[0];
    }

    private static string WithFile(string text, Func<string, string> body, string suffix = ".xyz")
    {
        var path = TestPaths.Temp(suffix);
        File.WriteAllText(path, text);
        try
        {
            return body(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void DefaultsAreDocumentedValuesAndVariablesOverrideThem()
    {
        var d = Limits.FromEnvironment(_ => null);
        Assert.Equal(20_000_000, d.MaxAtoms);
        Assert.Equal(30.0, d.MaxCutoff);
        var env = new Dictionary<string, string> { ["QMMM_MAX_ATOMS"] = "1e8", ["QMMM_MAX_CUTOFF"] = "45.5" };
        var l = Limits.FromEnvironment(k => env.GetValueOrDefault(k));
        Assert.Equal(100_000_000, l.MaxAtoms);
        Assert.Equal(45.5, l.MaxCutoff);
        var e = Assert.Throws<QmmmInputException>(() => Limits.FromEnvironment(k => k == "QMMM_MAX_LINE" ? "-3" : null));
        Assert.Contains("QMMM_MAX_LINE", e.Message);
    }

    [Fact]
    public void AnAtomCountAboveTheLimitIsRefusedAtLineOneNamingTheVariable()
    {
        var e = Assert.Throws<ExtXyzFormatException>(() => ExtXyz.Parse("1000000000000\n\nW 0 0 0\n", "big.xyz"));
        Assert.Equal(("big.xyz", 1, "atom count"), (e.File, e.Line, e.Field));
        Assert.Contains("1000000000000, above the limit 20000000 (set QMMM_MAX_ATOMS to raise it)", e.Message);
        var small = new Limits { MaxAtoms = 2 };
        var e2 = Assert.Throws<ExtXyzFormatException>(() => ExtXyz.Read(new StringReader("3\n\nW 0 0 0\nW 1 1 1\nW 2 2 2\n"), "s.xyz", small));
        Assert.Equal(1, e2.Line);
    }

    [Theory]
    [InlineData("2\nProperties=species:S:1:pos:R:3:t:I:1500000000\nW 0 0 0 1\n", "column 't': 1500000000 values per atom cannot fit a line")]
    [InlineData("8192\nProperties=species:S:1:pos:R:3:x:R:524288\n", "the columns declare 524292 values per atom line")]
    [InlineData("2\nProperties=species:S:1:pos:R:3:t:I:99999999999999999999\nW 0 0 0 1\n", "column 't': 99999999999999999999 values per atom cannot fit")]
    [InlineData("1\nProperties=species:S:1:pos:R:3:a=b:I:1\nW 0 0 0 1\n", "column name 'a=b' must not contain")]
    [InlineData("1\nProperties=\"species:S:1:pos:R:3:a b:I:1\"\nW 0 0 0 1\n", "column name 'a b' must not contain")]
    public void OverflowingOrInvalidColumnsAreLocatedAtTheCommentLine(string text, string fragment)
    {
        var e = Assert.Throws<ExtXyzFormatException>(() => ExtXyz.Parse(text, "cols.xyz"));
        Assert.Equal(("cols.xyz", 2, "Properties"), (e.File, e.Line, e.Field));
        Assert.Contains(fragment, e.Message);
        var line = WithFile(text, p => Fails(Cli.Cli.InputError, "eval", p));
        Assert.Contains(":2: field 'Properties': ", line);
    }

    [Fact]
    public void ValuesPerFrameAreCheckedIn64BitArithmetic()
    {
        // 1.5e9 atoms x 4 columns wraps a 32-bit product (to 1705032704); the limit sees the true 64-bit count
        var limits = new Limits { MaxAtoms = long.MaxValue / 4, MaxValues = 2_000_000_000 };
        var e = Assert.Throws<ExtXyzFormatException>(() => ExtXyz.Read(new StringReader("1500000000\n\nW 0 0 0\n"), "v.xyz", limits));
        Assert.Contains("the number of values of the frame (1500000000 atoms x 4 columns) is 6000000000, above the limit 2000000000 (set QMMM_MAX_VALUES", e.Message);
        var e2 = Assert.Throws<ExtXyzFormatException>(() => ExtXyz.Read(new StringReader("2147483648\n\nW 0 0 0\n"), "v.xyz", limits));
        Assert.Contains("exceeds the largest array .NET can hold", e2.Message);
    }

    [Fact]
    public void ALineLongerThanTheLimitIsRefusedBeforeItIsHeld()
    {
        var text = "1\n" + new string('x', 5000) + "\nW 0 0 0\n";
        var e = Assert.Throws<ExtXyzFormatException>(() => ExtXyz.Read(new StringReader(text), "long.xyz", new Limits { MaxLineLength = 1000 }));
        Assert.Equal(("long.xyz", 2, "line"), (e.File, e.Line, e.Field));
        Assert.Contains("longer than the limit of 1000 characters (set QMMM_MAX_LINE", e.Message);
        // a line exactly at the limit is fine, with \r\n endings too
        var ok = ExtXyz.Read(new StringReader("1\r\n" + new string(' ', 990) + "\r\nW 0 0 0\r\n"), "ok.xyz", new Limits { MaxLineLength = 1000 });
        Assert.Single(ok);
    }

    [Fact]
    public void AFrameWithZeroAtomsIsAnInputErrorNotNaNPerAtom()
    {
        var line = WithFile("0\n\n", p => Fails(Cli.Cli.InputError, "eval", p));
        Assert.Contains(":1: field 'atom count': the frame has 0 atoms", line);
        var s = ExtXyz.Parse("0\n\n", "zero.xyz")[0];
        var e = Assert.Throws<QmmmInputException>(s.Validate);
        Assert.Equal(("zero.xyz", 1, "atom count"), (e.File, e.Line, e.Field));
    }

    [Fact]
    public void EmptyFilesDevicesAndDirectoriesGiveLocatedMessagesWithoutReading()
    {
        var empty = WithFile("", p => Fails(Cli.Cli.InputError, "eval", p));
        Assert.Contains(":1: field 'atom count': the file is empty (0 bytes), or is not a regular file", empty);
        var device = Fails(Cli.Cli.InputError, "eval", "/dev/zero");
        Assert.Contains("/dev/zero:1: field 'atom count': the file is empty (0 bytes), or is not a regular file (a device or FIFO)", device);
        Assert.Contains("is a directory", Fails(Cli.Cli.InputError, "eval", Path.GetTempPath()));
        Assert.Contains("no such file", Fails(Cli.Cli.InputError, "eval", TestPaths.Temp(".xyz")));
        Assert.Contains("not a regular file", WithFile("1\n\nW 0 0 0\n", p => Fails(Cli.Cli.InputError, "eval", "--model", "setfl:/dev/zero", p)));
    }

    [Fact]
    public void AFifoIsRefusedWithoutBlocking()
    {
        var path = TestPaths.Temp(".xyz");
        using (var p = System.Diagnostics.Process.Start("mkfifo", path))
        {
            p.WaitForExit();
            Assert.Equal(0, p.ExitCode);
        }

        try
        {
            Assert.Contains("not a regular file (a device or FIFO)", Fails(Cli.Cli.InputError, "eval", path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("--radius: the number of sites of a cluster of radius 1E+15", "lattice", "--a", "3.1", "--radius", "1e15")]
    [InlineData("--radius: the number of sites of a cluster of radius 1E+09", "lattice", "--a", "3.1", "--radius", "1e9")]
    [InlineData("--radius: the number of sites of a quasi-2D disc of radius 1E+06", "lattice", "--a", "3.1", "--radius", "1e6", "--quasi2d")]
    [InlineData("--repeat: a repeat is 5000, above the limit 1000 (set QMMM_MAX_REPEAT to raise it)", "lattice", "--a", "3.1", "--repeat", "5000x1x1")]
    [InlineData("--repeat: the number of sites of a 1000x1000x1000 cell", "lattice", "--a", "3.1", "--repeat", "1000x1000x1000")]
    [InlineData("--element/--lattice/--a: lattice constant a = 1E-200 Å puts nearest neighbours", "lattice", "--a", "1e-200", "--repeat", "2")]
    [InlineData("--element/--lattice/--a: lattice constant a = 1E-05 Å puts nearest neighbours", "lattice", "--a", "1e-5", "--radius", "10")]
    [InlineData("--element/--lattice/--a: lattice constant a = 1E-30 Å", "derivatives", "--a", "1e-30", "--order", "1", "--radius", "5")]
    [InlineData("--element/--lattice/--a: lattice constant a = 0.05 Å puts nearest neighbours 0.0433 Å apart, closer than the minimum separation of atoms (0.5 Å)", "derivatives", "--a", "0.05", "--order", "1", "--radius", "5")]
    [InlineData("--radius: expected a number, got 'abc'", "lattice", "--a", "3.1", "--radius", "abc")]
    [InlineData("--threads: expected an integer, got '1.5'", "eval", "x.xyz", "--threads", "1.5")]
    [InlineData("--orient: Miller direction '[5000,1,0]': indices must lie in -1000..1000", "lattice", "--a", "3.1", "--orient", "[5000,1,0],[0,0,1],[1,-5000,0]", "--repeat", "1")]
    public void AbsurdLatticeRequestsAreQuickUsageErrors(string fragment, params string[] args)
    {
        Assert.Contains(fragment, Fails(Cli.Cli.UsageError, args));
    }

    [Fact]
    public void AnyIntegerTripleThatIsADirectionIsAccepted()
    {
        var (code, output, err) = Run("lattice", "--a", "3.1", "--orient", "[50,50,1],[1,-1,0],[1,1,-100]", "--repeat", "1");
        Assert.Equal("", err);
        Assert.Equal(0, code);
        var s = ExtXyz.Parse(output, "out")[0];
        // bcc: [50,50,1] has odd index sum, so the period is a|[50,50,1]| (no half-translation lies on it);
        // [1,-1,0]: a√2; [1,1,-100]: a|v| (even sum but not all odd: (½,½,½)·k never parallel).
        Assert.Equal(3.1 * Math.Sqrt(5001), s.Cell[0, 0], 1e-9);
        Assert.Equal(3.1 * Math.Sqrt(2), s.Cell[1, 1], 1e-9);
        Assert.Equal(3.1 * Math.Sqrt(10002), s.Cell[2, 2], 1e-9);
        // sites = volume / (a³/2)
        Assert.Equal((int)Math.Round(Math.Sqrt(5001) * Math.Sqrt(2) * Math.Sqrt(10002) * 2), s.Count);
    }

    [Fact]
    public void DegenerateAndSkewedCellsAreLocatedAtTheLatticeLine()
    {
        var tiny = "4\nLattice=\"3.16 0 0 0 3.16 0 0 0 1e-5\"\nW 0 0 0\nW 1.58 0 0\nW 0 1.58 0\nW 1.58 1.58 0\n";
        var e = Assert.Throws<QmmmInputException>(() => ExtXyz.Parse(tiny, "tiny.xyz")[0].Validate());
        Assert.Equal(("tiny.xyz", 2, "Lattice"), (e.File, e.Line, e.Field));
        Assert.Contains("too thin", e.Message);
        var line = WithFile(tiny, p => Fails(Cli.Cli.InputError, "eval", p));
        Assert.Contains(":2: field 'Lattice': ", line);
        Assert.Contains("too thin", line);
    }

    [Fact]
    public void ASkewedCellIsReducedAndGivesTheEnergyOfTheOrthogonalCell()
    {
        // simple cubic W (a = 3.16) written with a2' = a2 + 300 a1, a3' = a3 + 200 a1 + 150 a2: the same lattice
        const double a = 3.16;
        var skew = ExtXyz.Parse($"1\nLattice=\"{a} 0 0 {300 * a} {a} 0 {200 * a} {150 * a} {a}\"\nW 0 0 0\n", "skew.xyz")[0];
        var cubic = ExtXyz.Parse($"1\nLattice=\"{a} 0 0 0 {a} 0 0 0 {a}\"\nW 0 0 0\n", "cubic.xyz")[0];
        var model = Models.Create("eam-w-marinica");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var e = model.Evaluate(skew);
        Assert.True(watch.Elapsed.TotalSeconds < 5, "quick: few images after reduction");
        var reference = model.Evaluate(cubic);
        Assert.Equal(reference.Energy, e.Energy, 1e-10);
        for (var i = 0; i < 3; i++)
        {
            for (var k = 0; k < 3; k++)
            {
                Assert.Equal(reference.Virial[i, k], e.Virial[i, k], 1e-9);
            }
        }
    }

    [Fact]
    public void HugeLatticeVectorsAndCoordinatesGiveResultsOrLocatedErrorsNeverInternalOnes()
    {
        // 1e308 along an open axis (mixed periodicity): the binning once indexed out of range; now it evaluates and
        // matches the same two atoms with that axis's vector set to 10 Å (open axes do not interact)
        var model = Models.Create("eam-w-marinica");
        var big = ExtXyz.Parse("2\nLattice=\"1e308 0 0 0 3.16 0 0 0 3.16\" pbc=\"F T T\"\nW 0 0 0\nW 1.5 1.5 1.5\n", "big.xyz")[0];
        var small = ExtXyz.Parse("2\nLattice=\"10 0 0 0 3.16 0 0 0 3.16\" pbc=\"F T T\"\nW 0 0 0\nW 1.5 1.5 1.5\n", "small.xyz")[0];
        Assert.Equal(model.Evaluate(small).Energy, model.Evaluate(big).Energy, 1e-10);
        // periodic along it: the volume overflows; refused at the Lattice line
        var line = WithFile("2\nLattice=\"1e308 0 0 0 3.16 0 0 0 3.16\"\nW 0 0 0\nW 1.5 1.5 1.5\n", p => Fails(Cli.Cli.InputError, "eval", p));
        Assert.Contains(":2: field 'Lattice': ", line);
        // an atom 1e300 Å away does not hide two coincident atoms (the hashed cubes decline such coordinates)
        var far = WithFile("3\n\nW 0 0 0\nW 1e300 0 0\nW 0 0 0\n", p => Fails(Cli.Cli.InputError, "eval", p));
        Assert.Contains(":5: field 'pos': atoms 0 and 2 are 0 Å apart (closer than 0.5 Å)", far);
    }

    [Fact]
    public void TooManyNeighboursPerAtomAreRefusedInTheCountingPass()
    {
        // fcc with nearest neighbours 0.55 Å apart (allowed: above 0.5 Å): about 8.5 atoms/Å³, so an inner atom has
        // about 5,800 neighbours within the 5.46 Å cutoff, above the default 5,000
        var s = Lattices.Fcc("W", 0.55 * Math.Sqrt(2)).Cluster(6.5);
        var model = Models.Create("eam-w-marinica");
        var before = GC.GetTotalAllocatedBytes(false);
        var e = Assert.Throws<QmmmInputException>(() => model.Evaluate(s));
        Assert.Contains("neighbours within 5.46", e.Message);
        Assert.Contains("above the limit 5000 per atom (set QMMM_MAX_NEIGHBOURS to raise it)", e.Message);
        // the list (~5e7 entries, 400 MB) was never allocated
        Assert.True(GC.GetTotalAllocatedBytes(false) - before < 100L << 20);
    }

    /// <summary>A one-element setfl file with Nr = Nrho = 10 and the given grid line and first density value.</summary>
    internal static string Setfl(string grid = "10 0.1 10 0.6 5.0", string rho0 = "1.0")
    {
        var sb = new StringBuilder("c1\nc2\nc3\n1 W\n").Append(grid).Append("\n74 183.84 3.16 bcc\n");
        sb.AppendLine(string.Join(' ', Enumerable.Range(0, 10).Select(m => (-0.1 * m).ToString(CultureInfo.InvariantCulture))));
        sb.AppendLine(rho0 + " " + string.Join(' ', Enumerable.Range(1, 9).Select(m => (1.0 / (1 + m)).ToString(CultureInfo.InvariantCulture))));
        sb.AppendLine(string.Join(' ', Enumerable.Range(0, 10).Select(m => (2.0 - (0.2 * m)).ToString(CultureInfo.InvariantCulture))));
        return sb.ToString();
    }

    [Theory]
    [InlineData("10 0.1 10 0.6 1e6", 5, "cutoff", "1e+06 Å is outside the accepted range [0.5, 30] Å (set QMMM_MIN_CUTOFF / QMMM_MAX_CUTOFF")]
    [InlineData("10 0.1 10 0.6 5e-324", 5, "cutoff", "is outside the accepted range [0.5, 30]")]
    [InlineData("10 0.1 10 1e-308 5.0", 5, "Nr", "the distance grid ends at (Nr - 1) * dr = 9e-308 Å, short of the cutoff 5 Å")]
    [InlineData("2147483647 0.1 10 0.6 5.0", 5, "Nrho", "2147483647 grid points is above the limit 10000000 (set QMMM_MAX_TABLE")]
    [InlineData("10 0.1 2147483647 0.6 5.0", 5, "Nr", "2147483647 grid points is above the limit")]
    [InlineData("10 1e308 10 0.6 5.0", 5, "drho", "is not finite")]
    public void SetflGridsAreValidatedOnLoad(string grid, int line, string field, string fragment)
    {
        var e = Assert.Throws<Numerics.QmmmException>(() => Numerics.Setfl.parse(Numerics.SetflKind.Alloy, "bad.eam.alloy", Setfl(grid)));
        Assert.StartsWith($"bad.eam.alloy:{line}: field '{field}': ", e.Message);
        Assert.Contains(fragment, e.Message);
        var msg = WithFile(Setfl(grid), p => WithFile("1\n\nW 0 0 0\n", q => Fails(Cli.Cli.InputError, "eval", "--model", "setfl:" + p, q)), ".eam.alloy");
        Assert.Contains($":{line}: field '{field}': ", msg);
    }

    [Fact]
    public void TheTestSetflIsValidSoTheRefusalsAboveAreTheGridsAlone()
    {
        var data = Numerics.Setfl.parse(Numerics.SetflKind.Alloy, "ok.eam.alloy", Setfl());
        Assert.Equal(5.0, data.Cutoff);
    }

    [Theory]
    [InlineData("1e308", "rho[W][0]", "not a plausible table value")]
    [InlineData("-1e300", "rho[W][0]", "above the limit 1E+10 (set QMMM_MAX_TABLE_VALUE")]
    public void ImplausibleTableValuesAreRefused(string rho0, string field, string fragment)
    {
        var e = Assert.Throws<Numerics.QmmmException>(() => Numerics.Setfl.parse(Numerics.SetflKind.Alloy, "t.eam.alloy", Setfl(rho0: rho0)));
        Assert.StartsWith($"t.eam.alloy:8: field '{field}': ", e.Message);
        Assert.Contains(fragment, e.Message.Replace("1e+10", "1E+10"));
    }

    [Fact]
    public void TooManyElementsAreRefusedBeforeTheirTablesAreAllocated()
    {
        var text = "c\nc\nc\n46341 " + string.Join(' ', Enumerable.Range(0, 46341).Select(i => "X" + i)) + "\n10 0.1 10 0.6 5.0\n";
        var e = Assert.Throws<Numerics.QmmmException>(() => Numerics.Setfl.parse(Numerics.SetflKind.FinnisSinclair, "many.eam.fs", text));
        Assert.StartsWith("many.eam.fs:4: field 'nelements': 46341 elements is above the limit 118 (set QMMM_MAX_ELEMENTS", e.Message);
    }

    [Fact]
    public void ADeclaredTableLongerThanTheFileCanHoldIsRefusedBeforeAllocating()
    {
        // Nrho = 10^7 is within the limit, but the file has a few hundred characters
        var e = Assert.Throws<Numerics.QmmmException>(() => Numerics.Setfl.parse(Numerics.SetflKind.Alloy, "short.eam.alloy", Setfl("10000000 0.1 10 0.6 5.0")));
        Assert.Contains("field 'F[W]': expected 10000000 values, more than the file's", e.Message);
    }
}
