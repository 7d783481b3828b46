using System.Text.Json;
using Qmmm.Cli;
using Qmmm.Host.IO;
using Xunit;

namespace Qmmm.Host.Tests;

/// <summary>
/// The <c>qmmm</c> command run in-process through <see cref="Cli.Run"/>: a happy path for each command, and for every
/// error class the exit code, exactly one line on stderr naming what is wrong, and nothing on stdout.
/// </summary>
[Collection(RegistryCollection.Name)]
public class CliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = Cli.Cli.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private static void AssertOneLineError(string err, string expected)
    {
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Equal("qmmm: error: " + expected, lines[0].TrimEnd('\r'));
    }

    private static void AssertFails(int expectedCode, string expectedMessage, params string[] args)
    {
        var (code, output, err) = Run(args);
        Assert.Equal(expectedCode, code);
        Assert.Equal("", output);
        AssertOneLineError(err, expectedMessage);
    }

    [Fact]
    public void LatticeWritesAPeriodicCellToStandardOutput()
    {
        var (code, output, err) = Run("lattice", "--element", "W", "--lattice", "bcc", "--a", "3.1434", "--repeat", "2x2x2");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        var s = Assert.Single(ExtXyz.Parse(output, "stdout"));
        Assert.Equal(16, s.Count);
        Assert.Equal(6.2868, s.Cell[0, 0], 1e-12);
        Assert.Equal(new[] { true, true, true }, s.Pbc);
        Assert.Equal("periodic", s.Info["domain"]);
    }

    [Fact]
    public void LatticeWritesAQuasi2DVacancyDomainToAFile()
    {
        var path = TestPaths.Temp(".xyz");
        try
        {
            var (code, output, err) = Run("lattice", "--a", "3.1434", "--radius", "6", "--quasi2d", "--vacancy", "--perturb", "0.02", "--seed", "3", "-o", path);
            Assert.Equal(0, code);
            Assert.Equal("", err);
            Assert.Contains($"to {path}", output);
            var s = Structure.Load(path);
            Assert.Equal(new[] { false, false, true }, s.Pbc);
            var full = Lattices.Bcc("W", 3.1434).Quasi2D(6);
            Assert.Equal(full.Count - 1, s.Count);
            Assert.Equal("T", s.Info["vacancy"]);
            Assert.Equal("3", s.Info["seed"]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void EvalPrintsJsonWithUnitsAndConsistentNumbers()
    {
        var path = TestPaths.Temp(".xyz");
        try
        {
            Assert.Equal(0, Run("lattice", "--a", "3.1434", "--repeat", "2x2x2", "--perturb", "0.05", "--seed", "1", "-o", path).Code);
            var (code, output, err) = Run("eval", "--model", "eam-w-marinica", path, "--json");
            Assert.Equal(0, code);
            Assert.Equal("", err);
            using var doc = JsonDocument.Parse(output);
            var root = doc.RootElement;
            var units = root.GetProperty("units");
            Assert.Equal("eV", units.GetProperty("energy").GetString());
            Assert.Equal("eV/Angstrom", units.GetProperty("forces").GetString());
            Assert.Equal("eV", units.GetProperty("virial").GetString());
            Assert.Equal("eV/Angstrom^3", units.GetProperty("stress").GetString());
            var energy = root.GetProperty("energy").GetDouble();
            var energies = root.GetProperty("energies").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            Assert.Equal(16, energies.Length);
            Assert.Equal(energy, energies.Sum(), 1e-9);
            var forces = root.GetProperty("forces").EnumerateArray().ToArray();
            Assert.Equal(16, forces.Length);
            Assert.All(forces, f => Assert.Equal(3, f.GetArrayLength()));
            Assert.Equal(0.0, forces.Sum(f => f[0].GetDouble()), 1e-10);
            var virial = root.GetProperty("virial");
            var stress = root.GetProperty("stress");
            var volume = Math.Pow(2 * 3.1434, 3);
            Assert.Equal(-virial[0][0].GetDouble() / volume, stress[0][0].GetDouble(), 1e-14);

            // The same numbers as the facade gives for the same file.
            var direct = Models.Create("eam-w-marinica").Evaluate(Structure.Load(path));
            Assert.Equal(direct.Energy, energy);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void EvalWritesResultsAsExtendedXyzAndPrintsTheEnergy()
    {
        var input = TestPaths.Temp(".xyz");
        var output = TestPaths.Temp(".xyz");
        try
        {
            Assert.Equal(0, Run("lattice", "--a", "3.1434", "--radius", "5", "-o", input).Code);
            var (code, text, err) = Run("eval", input, "-o", output);
            Assert.Equal(0, code);
            Assert.Equal("", err);
            var s = Structure.Load(output);
            Assert.NotNull(s.Energy);
            Assert.NotNull(s.Forces);
            Assert.NotNull(s.SiteEnergies);
            Assert.NotNull(s.Virial);
            Assert.Null(s.Stress); // a cluster has no volume
            Assert.Contains(s.Energy!.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture), text);
            Assert.Contains("eV", text);
        }
        finally
        {
            File.Delete(input);
            File.Delete(output);
        }
    }

    [Fact]
    public void EvalOfAMultiFrameFileEvaluatesEveryFrame()
    {
        var (code, output, err) = Run("eval", TestPaths.Data("ase_quasi2d_frames.xyz"), "--json");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(JsonValueKind.Array, doc.RootElement.ValueKind);
        Assert.Equal([2, 3], doc.RootElement.EnumerateArray().Select(f => f.GetProperty("natoms").GetInt32()));
        Assert.All(doc.RootElement.EnumerateArray(), f => Assert.Equal(JsonValueKind.Null, f.GetProperty("stress").ValueKind));
    }

    [Fact]
    public void MissingFileIsAnInputError()
    {
        var path = TestPaths.Temp(".xyz");
        AssertFails(1, $"{path}: no such file", "eval", path);
    }

    [Fact]
    public void MalformedLineIsAnInputErrorNamingFileLineAndField()
    {
        WithFile("2\nProperties=species:S:1:pos:R:3\nW 0 0 0\nW abc 0 0\n", path =>
            AssertFails(1, $"{path}:4: field 'pos' (column 2): expected a number, got 'abc'", "eval", path));
    }

    [Fact]
    public void NanCoordinateIsAnInputErrorNamingTheAtom()
    {
        WithFile("2\n\nW 0 0 0\nW 2.7 NaN 0\n", path =>
            AssertFails(1, $"{path}:4: field 'pos' (column 3): atom 1: coordinate y is nan, not a finite number", "eval", path));
    }

    [Fact]
    public void OverlappingAtomsAreAnInputError()
    {
        WithFile("3\nLattice=\"8 0 0 0 8 0 0 0 8\"\nW 0 0 0\nW 2.7 0 0\nW 2.9 0 0\n", path =>
            AssertFails(1, $"{path}:5: field 'pos': atoms 1 and 2 are 0.2 Å apart (closer than 0.5 Å)", "eval", path));
    }

    [Fact]
    public void UnknownModelIsAUsageError()
    {
        WithFile("1\n\nW 0 0 0\n", path =>
            AssertFails(2, UnknownModel("eam-w-nope"), "eval", "--model", "eam-w-nope", path));
    }

    [Fact]
    public void MissingSetflFileIsAnInputError()
    {
        var potential = TestPaths.Temp(".eam.alloy");
        WithFile("1\n\nW 0 0 0\n", path => AssertFails(1, $"{potential}: no such file", "eval", "--model", "setfl:" + potential, path));
    }

    [Theory]
    [InlineData("--a: expected a positive lattice constant in Angstrom, got -3", "lattice", "--a", "-3", "--repeat", "2")]
    [InlineData("--repeat: expected N1xN2xN3 with positive integers (e.g. 4x4x4), got '4x4'", "lattice", "--a", "3.1", "--repeat", "4x4")]
    [InlineData("give either --radius R (cluster, or quasi-2D disc with --quasi2d) or --repeat N1xN2xN3 (periodic cell)", "lattice", "--a", "3.1")]
    [InlineData("--quasi2d needs --radius R (the disc radius)", "lattice", "--a", "3.1", "--repeat", "2", "--quasi2d")]
    [InlineData("--perturb needs an explicit --seed (every random choice takes a seed)", "lattice", "--a", "3.1", "--repeat", "2", "--perturb", "0.1")]
    [InlineData("--orient: the Miller directions x = [1,0,0] and y = [1,1,0] are not orthogonal (dot product 1)", "lattice", "--a", "3.1", "--repeat", "2", "--orient", "100,110,001")]
    [InlineData("Option '--a' is required.", "lattice", "--repeat", "2")]
    [InlineData("unrecognized command or argument 'frobnicate' (see qmmm --help)", "frobnicate")]
    [InlineData("no command given: use 'qmmm lattice', 'qmmm eval' or 'qmmm derivatives' (see qmmm --help)")]
    public void BadOptionValuesAreUsageErrors(string expected, params string[] args) => AssertFails(2, expected, args);

    [Fact]
    public void VersionAndHelpPrintToStandardOutput()
    {
        var (code, output, err) = Run("--version");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.Equal($"qmmm {QmmmInfo.Version}", output.Trim());

        foreach (var (command, option) in new[] { ("lattice", "--repeat"), ("eval", "--model") })
        {
            (code, output, err) = Run(command, "--help");
            Assert.Equal(0, code);
            Assert.Equal("", err);
            Assert.Contains(option, output);
        }
    }

    private static void WithFile(string content, Action<string> body)
    {
        var path = TestPaths.Temp(".xyz");
        File.WriteAllText(path, content);
        try
        {
            body(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static JsonElement DerivativesJson(params string[] extra)
    {
        var (code, output, err) = Run(["derivatives", "--model", "eam-w-marinica", "--lattice", "bcc", "--element", "W", "--a", "3.1434", .. extra, "--json"]);
        Assert.Equal(0, code);
        Assert.Equal("", err);
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    private static double[] Numbers(JsonElement array) => array.EnumerateArray().Select(x => x.GetDouble()).ToArray();

    [Fact]
    public void DerivativesOrderOneIsABalancedCentralForceFieldOnTwoShells()
    {
        // Radius 3.2 Å covers the bcc first shell (8 at a√3/2 = 2.722 Å) and second shell (6 at a = 3.1434 Å).
        var root = DerivativesJson("--order", "1", "--radius", "3.2");
        Assert.Equal("eV/Angstrom^j", root.GetProperty("units").GetProperty("tensor").GetString());
        Assert.Equal(1, root.GetProperty("order").GetInt32());
        Assert.Equal("W", root.GetProperty("lattice").GetProperty("element").GetString());
        var stencil = root.GetProperty("stencil").EnumerateArray().Select(Numbers).ToArray();
        var tuples = root.GetProperty("tuples").EnumerateArray().Select(t => t.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray();
        var blocks = root.GetProperty("blocks").EnumerateArray().Select(Numbers).ToArray();
        Assert.Equal(14, stencil.Length);
        Assert.Equal(8, stencil.Count(r => Math.Abs(Math.Sqrt(r.Sum(x => x * x)) - 3.1434 * Math.Sqrt(3) / 2) < 1e-9));
        Assert.Equal(6, stencil.Count(r => Math.Abs(Math.Sqrt(r.Sum(x => x * x)) - 3.1434) < 1e-9));
        Assert.Equal(Enumerable.Range(0, 14), tuples.Select(t => Assert.Single(t)));
        Assert.All(root.GetProperty("multiplicity").EnumerateArray(), m => Assert.Equal(1, m.GetInt32()));

        // The perfect-lattice force vanishes by inversion symmetry: Σ_ρ ∂V/∂g_ρ = 0.
        for (var c = 0; c < 3; c++)
        {
            Assert.Equal(0.0, blocks.Sum(b => b[c]), 1e-12);
        }

        var model = Models.Create("eam-w-marinica");
        var facade = model.DerivativeTensors(Lattices.Bcc("W", 3.1434), 1, 3.2);
        var sites = facade.Sites;
        Assert.Equal(14, sites.Length);
        for (var i = 0; i < 14; i++)
        {
            var rho = stencil[i];
            var b = blocks[i];
            Assert.Equal(3, b.Length);
            for (var c = 0; c < 3; c++)
            {
                Assert.Equal(facade.Stencil[sites[i], c], rho[c], 1e-12);
                Assert.Equal(facade.Get([sites[i]], [c]), b[c], 1e-12);
            }

            // A pair-type (radial) dependence at a symmetric site: ∂V/∂g_ρ is parallel to ρ (cross product zero).
            var cross = new[] { rho[1] * b[2] - rho[2] * b[1], rho[2] * b[0] - rho[0] * b[2], rho[0] * b[1] - rho[1] * b[0] };
            Assert.All(cross, x => Assert.Equal(0.0, x, 1e-12));
        }

        // First-shell blocks are non-trivial and all of one length (the 8 neighbours are equivalent under the cubic group).
        var firstShell = Enumerable.Range(0, 14).Where(i => Math.Sqrt(stencil[i].Sum(x => x * x)) < 3.0).Select(i => Math.Sqrt(blocks[i].Sum(x => x * x))).ToArray();
        Assert.Equal(8, firstShell.Length);
        Assert.True(firstShell[0] > 1e-3);
        Assert.All(firstShell, n => Assert.Equal(firstShell[0], n, 1e-12));
    }

    [Fact]
    public void DerivativesOrderTwoHasSymmetricDiagonalBlocksAndSortedTuples()
    {
        var root = DerivativesJson("--order", "2", "--radius", "3.0", "--orient", "1-10,111,-1-12");
        var k = root.GetProperty("stencil").GetArrayLength();
        Assert.Equal(8, k);
        var tuples = root.GetProperty("tuples").EnumerateArray().Select(t => t.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray();
        var mult = root.GetProperty("multiplicity").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        var blocks = root.GetProperty("blocks").EnumerateArray().Select(Numbers).ToArray();
        Assert.Equal(k * (k + 1) / 2, tuples.Length); // sorted pairs with repetition
        for (var t = 0; t < tuples.Length; t++)
        {
            Assert.True(tuples[t][0] <= tuples[t][1]);
            Assert.Equal(tuples[t][0] == tuples[t][1] ? 1 : 2, mult[t]);
            if (t > 0)
            {
                Assert.True(tuples[t - 1][0] < tuples[t][0] || (tuples[t - 1][0] == tuples[t][0] && tuples[t - 1][1] < tuples[t][1]));
            }

            Assert.Equal(9, blocks[t].Length);
            if (tuples[t][0] == tuples[t][1])
            {
                // The block of (i,i) is the Hessian ∂²V/∂g_i∂g_i: a symmetric 3×3 (c = 3a + b).
                for (var a = 0; a < 3; a++)
                {
                    for (var b = 0; b < a; b++)
                    {
                        Assert.Equal(blocks[t][3 * a + b], blocks[t][3 * b + a], 1e-12);
                    }
                }
            }
        }

        // The summary table counts the same 8·9/2 = 36 sorted pairs and states the unit.
        var (code, text, err) = Run("derivatives", "--a", "3.1434", "--order", "2", "--radius", "3.0");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.Contains("36", text);
        Assert.Contains("eV/Angstrom^2", text);
    }

    [Fact]
    public void DerivativesWritesJsonToAFile()
    {
        var path = TestPaths.Temp(".json");
        try
        {
            var (code, text, err) = Run("derivatives", "--a", "3.1434", "--order", "1", "--radius", "3.2", "-o", path);
            Assert.Equal(0, code);
            Assert.Equal("", err);
            Assert.Contains($"to {path}", text);
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            Assert.Equal(14, doc.RootElement.GetProperty("blocks").GetArrayLength());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("--order: expected a derivative order in 1..4, got 5", "--order", "5", "--radius", "3")]
    [InlineData("--order: expected a derivative order in 1..4, got 0", "--order", "0", "--radius", "3")]
    [InlineData("--radius: expected a positive radius in Angstrom, got 0", "--order", "1", "--radius", "0")]
    [InlineData("--radius: expected a positive radius in Angstrom, got -2", "--order", "1", "--radius", "-2")]
    [InlineData("--gamma: expected a non-negative decay in 1/Angstrom, got -1", "--order", "1", "--radius", "3", "--gamma", "-1")]
    [InlineData("--radius: 8 Angstrom covers 136 neighbours; order 3 is limited to 100 neighbours (use a smaller radius)", "--model", "eam-w-zhou", "--order", "3", "--radius", "8")]
    [InlineData("--radius: 5.4 Angstrom at order 4 needs 23718825 stored numbers (limit 20000000; use a smaller radius)", "--order", "4", "--radius", "5.4")]
    [InlineData("Argument 'hcp' not recognized. Must be one of: 'bcc' 'fcc' 'diamond'", "--lattice", "hcp", "--order", "1", "--radius", "3")]
    [InlineData("--element: model 'eam-w-marinica' has no element 'Mo' (it knows W)", "--element", "Mo", "--order", "1", "--radius", "3")]
    public void DerivativesBadOptionValuesAreUsageErrors(string expected, params string[] args) =>
        AssertFails(2, expected, ["derivatives", "--a", "3.1434", .. args]);

    /// <summary>The message for an unknown model: it lists every registered model, the built-in ones among them.</summary>
    private static string UnknownModel(string name)
    {
        foreach (var builtIn in new[] { "eam-w-marinica", "eam-w-zhou", "setfl:PATH", "harmonic:MODEL", "taylor:3:MODEL", "nrltb-si", "nrltb-si:OPTIONS", "ace:PATH" })
        {
            Assert.Contains(builtIn, Models.Known);
        }

        return $"--model: unknown model '{name}' (known: {string.Join(", ", Models.Known)})";
    }

    [Fact]
    public void DerivativesRejectsAnUnknownModel() =>
        AssertFails(2, UnknownModel("eam-w-nope"), "derivatives", "--a", "3.1434", "--model", "eam-w-nope", "--order", "1", "--radius", "3");

    [Fact]
    public void DerivativesRejectsANonPositiveLatticeConstant() =>
        AssertFails(2, "--a: expected a positive lattice constant in Angstrom, got 0", "derivatives", "--a", "0", "--order", "1", "--radius", "3");
}
