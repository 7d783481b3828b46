using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Qmmm.Host.IO;
using Qmmm.Numerics;
using Xunit;

namespace Qmmm.Host.Tests;

/// <summary>
/// ACE potential files and the <c>ace:</c> registry entry: a JSON round trip gives bit-identical energies, malformed
/// files get located errors, and <c>qmmm ace-basis</c> reports the paper's basis sizes deterministically across processes.
/// </summary>
[Collection(RegistryCollection.Name)]
public class AceFileTests
{
    private static string Example => TestPaths.Data("ace_w_random_3_10.json");

    private static Structure Cell() => Lattices.Bcc("W", 3.1652).Periodic(2, 2, 2).Perturbed(5, 0.1);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = Cli.Cli.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void TheExampleFileLoadsThroughTheRegistryAndEqualsTheCoreModel()
    {
        var model = Models.Create("ace:" + Example);
        Assert.Equal("ace-w-random-3-10", model.Name);
        Assert.Equal(5.5, model.Cutoff);
        var file = AceFile.Read(Example);
        Assert.Equal(110, file.Coefficients.Length);
        // the same model built directly in the core
        var basis = AceBasisModule.create(file.Basis);
        var site = new AcePotential("direct", "W", basis, file.Coefficients);
        var s = Cell();
        var viaRegistry = model.Evaluate(s, 1);
        var direct = new Model("direct", Numerics.Potential.ofSite(site), site).Evaluate(s, 1);
        Assert.Equal(BitConverter.DoubleToInt64Bits(direct.Energy), BitConverter.DoubleToInt64Bits(viaRegistry.Energy));
    }

    [Fact]
    public void AJsonRoundTripGivesBitIdenticalCoefficientsAndEnergies()
    {
        var file = AceFile.Read(Example);
        var rng = new Random(17);
        var c = file.Coefficients.Select(_ => (rng.NextDouble() - 0.5) * Math.PI * 1e-3).ToArray();
        var meta = new JsonObject { ["fit"] = new JsonObject { ["rmse"] = 0.1234567890123, ["note"] = "free text" } };
        var original = new AcePotentialFile("rt", "W", file.Basis, c, meta);
        var path = TestPaths.Temp(".json");
        try
        {
            AceFile.Write(path, original);
            var back = AceFile.Read(path);
            Assert.Equal(c.Select(BitConverter.DoubleToInt64Bits), back.Coefficients.Select(BitConverter.DoubleToInt64Bits));
            Assert.Equal("free text", back.Metadata["fit"]!["note"]!.GetValue<string>());
            var s = Cell();
            var e1 = AceFile.ToModel("a", original).Evaluate(s, 1);
            var e2 = Models.Create("ace:" + path).Evaluate(s, 2);
            Assert.Equal(BitConverter.DoubleToInt64Bits(e1.Energy), BitConverter.DoubleToInt64Bits(e2.Energy));
            for (var i = 0; i < s.Count; i++)
            {
                for (var k = 0; k < 3; k++)
                {
                    Assert.Equal(BitConverter.DoubleToInt64Bits(e1.Forces[i, k]), BitConverter.DoubleToInt64Bits(e2.Forces[i, k]));
                }
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string Modified(Action<JsonObject> edit)
    {
        var root = JsonNode.Parse(File.ReadAllText(Example))!.AsObject();
        edit(root);
        return root.ToJsonString();
    }

    [Fact]
    public void AWrongSchemaVersionIsALocatedError()
    {
        var text = Modified(r => r["version"] = 2);
        var e = Assert.Throws<AceFileFormatException>(() => AceFile.Parse("w.json", text));
        Assert.Equal("version", e.Field);
        Assert.Equal("w.json: field 'version': this reader knows schema version 1, got 2", e.Message);
    }

    [Fact]
    public void CoefficientsInconsistentWithTheBasisAreALocatedError()
    {
        var text = Modified(r => r["coefficients"]!.AsArray().RemoveAt(0));
        var e = Assert.Throws<AceFileFormatException>(() => AceFile.Parse("w.json", text));
        Assert.Equal("coefficients", e.Field);
        Assert.Contains("109 entries, the basis has 110 functions", e.Message);

        var size = Modified(r => r["basis"]!["size"] = 111);
        var e2 = Assert.Throws<AceFileFormatException>(() => AceFile.Parse("w.json", size));
        Assert.Equal("basis.size", e2.Field);
        Assert.Contains("has 110 functions, the file declares 111", e2.Message);

        var bad = Modified(r => r["coefficients"]![3] = "x");
        Assert.Equal("coefficients[3]", Assert.Throws<AceFileFormatException>(() => AceFile.Parse("w.json", bad)).Field);

        var missing = Modified(r => r["basis"]!.AsObject().Remove("order"));
        Assert.Equal("basis.order", Assert.Throws<AceFileFormatException>(() => AceFile.Parse("w.json", missing)).Field);

        var syntax = Assert.Throws<AceFileFormatException>(() => AceFile.Parse("w.json", "{\n  \"schema\": \n"));
        Assert.StartsWith("w.json:", syntax.Message);
    }

    [Fact]
    public void EvalWithAnAceModelRunsFromTheCommandLine()
    {
        var xyz = TestPaths.Temp(".xyz");
        try
        {
            Cell().Save(xyz);
            var model = Models.Create("ace:" + Example);
            var (code, output, err) = Run("eval", xyz, "--model", "ace:" + Example, "--json");
            Assert.Equal(0, code);
            Assert.Equal("", err);
            using var doc = JsonDocument.Parse(output);
            Assert.Equal(model.Evaluate(Cell(), 1).Energy, doc.RootElement.GetProperty("energy").GetDouble(), 1e-12);
        }
        finally
        {
            File.Delete(xyz);
        }
    }

    [Fact]
    public void DerivativesWithAnAceModelRunFromTheCommandLine()
    {
        var (code, output, err) = Run("derivatives", "--model", "ace:" + Example, "--a", "3.1652", "--order", "2", "--radius", "3.2", "--json");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(2, doc.RootElement.GetProperty("order").GetInt32());
    }

    [Fact]
    public void TheAceModelHasExactDerivativesThatAgreeWithTheDifferenceRoute()
    {
        var model = Models.Create("ace:" + Example);
        Assert.True(model.HasExactDerivatives);
        var lattice = Lattices.Bcc("W", 3.1652);
        var exact = model.DerivativeTensors(lattice, 2, 3.2);
        Assert.Null(exact.ErrorEstimate);
        var site = (AcePotential)model.Site!;
        var species = 0;
        var stencil = LatticeModule.stencil(lattice.Lattice, model.Cutoff);
        var fd = DifferenceDerivatives.siteTensors(DifferenceDerivatives.Options.Defaults, site, species, stencil, 2, 3.2);
        var a = exact.Tensor.Values;
        var b = fd.Tensor.Values;
        Assert.Equal(b.Length, a.Length);
        var scale = 1 + b.Max(Math.Abs);
        for (var k = 0; k < a.Length; k++)
        {
            Assert.True(Math.Abs(a[k] - b[k]) < 1e-8 * scale, $"entry {k}: {a[k]} vs {b[k]}");
        }
    }

    [Theory]
    [InlineData(3, 10, 110, new[] { 10, 41, 59 }, 37, 6)]
    [InlineData(3, 16, 668, new[] { 16, 147, 505 }, 91, 10)]
    [InlineData(4, 20, 5456, new[] { 20, 274, 1515, 3647 }, 140, 12)]
    public void AceBasisPrintsThePapersSizes(int n, int d, int size, int[] byOrder, int oneParticle, int lmax)
    {
        var (code, output, err) = Run("ace-basis", "--order", n.ToString(), "--degree", d.ToString(), "--json");
        Assert.Equal(0, code);
        Assert.Equal("", err);
        using var doc = JsonDocument.Parse(output);
        var r = doc.RootElement;
        Assert.Equal(size, r.GetProperty("size").GetInt32());
        Assert.Equal(byOrder, r.GetProperty("byOrder").EnumerateArray().Select(x => x.GetInt32()).ToArray());
        Assert.Equal(oneParticle, r.GetProperty("oneParticle").GetInt32());
        Assert.Equal(lmax, r.GetProperty("lMax").GetInt32());
    }

    [Fact]
    public void AceBasisRejectsAnInvalidOrder()
    {
        var (code, output, err) = Run("ace-basis", "--order", "0", "--degree", "10");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Equal("qmmm: error: --order: expected 1..6, got 0", err.Trim());
    }

    [Fact]
    public void TheBasisChecksumIsTheSameInTwoSeparateProcesses()
    {
        var dll = typeof(Cli.Cli).Assembly.Location;
        string RunProcess()
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { dll, "ace-basis", "--order", "3", "--degree", "14", "--json" })
            {
                psi.ArgumentList.Add(a);
            }

            using var p = Process.Start(psi)!;
            var text = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.Equal(0, p.ExitCode);
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.GetProperty("checksum").GetString()!;
        }

        var a = RunProcess();
        var b = RunProcess();
        Assert.Equal(64, a.Length);
        Assert.Equal(a, b);
        // and the in-process construction agrees with both
        var inProcess = JsonDocument.Parse(Run("ace-basis", "--order", "3", "--degree", "14", "--json").Out).RootElement.GetProperty("checksum").GetString();
        Assert.Equal(a, inProcess);
    }
}
