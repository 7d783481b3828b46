using System.Text.Json;
using Qmmm.Host.IO;
using Qmmm.Numerics;
using Xunit;

namespace Qmmm.Host.Tests;

/// <summary>
/// The defect facade (<see cref="DefectSystem"/>) and the <c>qmmm relax</c> / <c>qmmm lattice --defect</c> commands:
/// set-up counts, the relaxed residual checked by an independent evaluation, progress and cancellation, output columns,
/// JSON keys, loud non-convergence.
/// </summary>
[Collection(RegistryCollection.Name)]
public class DefectsTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = Cli.Cli.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void TheWVacancyRelaxesToTheToleranceAndAFreshEvaluationAgrees()
    {
        var model = Models.Create("eam-w-zhou");
        var system = DefectSystem.Create(model, new DefectOptions { Defect = DefectType.Vacancy, Rmm = 4 });
        Assert.True(system.LatticeConstantComputed);
        Assert.Equal(2 * Zhou.re / Math.Sqrt(3), system.LatticeConstant, 1e-3);
        Assert.Equal(5, system.RffUnits); // ceil(2 × 7.8925 / 3.1648)
        Assert.Equal(system.AtomCount, system.FreeCount + system.FarFieldCount);
        var reports = new List<RelaxProgress>();
        var result = system.Relax(new RelaxOptions { Tolerance = 1e-10 }, reports.Add, CancellationToken.None);
        Assert.True(result.Residual <= 1e-10);
        Assert.NotEmpty(reports);
        Assert.True(result.FormationEnergy is > 3.0 and < 3.8508666);

        // an independent evaluation of the written structure: free atoms (region MM) are in equilibrium
        var s = result.Structure;
        var eval = model.Evaluate(s);
        var region = s.Columns.Single(c => c.Name == "region").Strings!;
        var worst = 0.0;
        for (var i = 0; i < s.Count; i++)
        {
            if (region[i] == "MM")
            {
                for (var k = 0; k < 3; k++)
                {
                    worst = Math.Max(worst, Math.Abs(eval.Forces[i, k]));
                }
            }
        }

        Assert.True(worst <= 1e-10, $"max |F| on MM atoms {worst}");
        Assert.Equal(eval.Energy, result.Energy, 1e-8);
    }

    [Fact]
    public void ACancelledTokenStopsTheRelaxation()
    {
        var system = DefectSystem.Create(Models.Create("eam-w-zhou"), new DefectOptions { Defect = DefectType.Edge, Rmm = 4 });
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => system.Relax(new RelaxOptions(), null, cts.Token));
    }

    [Fact]
    public void TheEdgeDislocationStructureCarriesRegionsPredictorAndCoreInfo()
    {
        var system = DefectSystem.Create(Models.Create("eam-w-zhou"), new DefectOptions { Defect = DefectType.Edge, Rmm = 3, Rff = 2 });
        var s = system.Predicted();
        var text = ExtXyz.ToText([s]);
        var back = Assert.Single(ExtXyz.Parse(text));
        Assert.Equal(system.AtomCount, back.Count);
        var u0 = back.Columns.Single(c => c.Name == "u0").Reals!;
        var u = back.Columns.Single(c => c.Name == "u").Reals!;
        for (var k = 0; k < u0.Length; k++)
        {
            Assert.Equal(u0[k], u[k], 1e-12); // unrelaxed: u = (x0 + u0) − x0 = u0 up to rounding
        }

        Assert.Contains(u0, v => Math.Abs(v) > 0.1); // the predictor moved atoms
        var a = system.LatticeConstant;
        Assert.Equal($"{ExtXyz.FormatReal(a)} 0.0 0.0", back.Info["burgers_vectors"]);
        var core = back.Info["core_positions"].Split(' ').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(a / 4, core[0], 1e-12);
        Assert.Equal(a / 4, core[1], 1e-12);
        Assert.Equal(0.0, core[2]);
        var regions = back.Columns.Single(c => c.Name == "region").Strings!;
        Assert.Equal(system.FreeCount, regions.Count(r => r == "MM"));
        Assert.Equal(system.FarFieldCount, regions.Count(r => r == "fixed"));
    }

    [Fact]
    public void RelaxPrintsOneJsonObjectWithTheRequiredKeys()
    {
        var (code, output, err) = Run("relax", "--defect", "vacancy", "--model", "eam-w-zhou", "--rmm", "3", "--json");
        Assert.Equal(0, code);
        Assert.Contains("rmm = 3", err);
        Assert.Contains("crystal = w  (default)", err);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        foreach (var key in new[] { "energy", "iterations", "residual", "natoms", "counts", "a", "r0", "parameters", "formation_energy" })
        {
            Assert.True(root.TryGetProperty(key, out _), $"key {key}");
        }

        Assert.True(root.GetProperty("residual").GetDouble() <= 1e-8);
        Assert.True(root.GetProperty("parameters").GetProperty("rmm").GetProperty("user_set").GetBoolean());
        Assert.False(root.GetProperty("parameters").GetProperty("tol").GetProperty("user_set").GetBoolean());
        var counts = root.GetProperty("counts");
        Assert.Equal(root.GetProperty("natoms").GetInt32(), counts.GetProperty("MM").GetInt32() + counts.GetProperty("fixed").GetInt32());
    }

    [Fact]
    public void AnIterationCapIsAComputationErrorNamingIterationsResidualAndTolerance()
    {
        var (code, output, err) = Run("relax", "--model", "eam-w-zhou", "--rmm", "3", "--tol", "1e-12", "--max-iterations", "2");
        Assert.Equal(Cli.Cli.ComputationError, code);
        Assert.Equal("", output);
        var last = err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        Assert.StartsWith("qmmm: error: relaxation did not converge:", last, StringComparison.Ordinal);
        Assert.Contains("after 2 iterations, tolerance 1.000e-12", last);
    }

    [Fact]
    public void LatticeWithDefectWritesThePredictedConfiguration()
    {
        var (code, output, _) = Run("lattice", "--defect", "edge", "--model", "eam-w-zhou", "--radius", "15");
        Assert.Equal(0, code);
        var s = Assert.Single(ExtXyz.Parse(output));
        Assert.Contains(s.Columns, c => c.Name == "u0");
        Assert.True(s.Info.ContainsKey("burgers_vectors"));
        var (code2, _, err2) = Run("lattice", "--radius", "5");
        Assert.Equal(2, code2);
        Assert.Contains("Option '--a' is required.", err2);
    }

    [Fact]
    public void CoupledRelaxWithMmEqualToQmReproducesTheReferenceAndReportsTheRegions()
    {
        var (code, output, err) = Run("relax", "--defect", "vacancy", "--model", "eam-w-zhou", "--mm", "eam-w-zhou", "--scheme", "energy", "--rmm", "4", "--rqm", "1.5", "--rbuf", "3", "--tol", "1e-10", "--reference", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        foreach (var key in new[] { "scheme", "qm_model", "mm_model", "residual", "error", "counts", "qm_cluster_size", "qm_evaluations", "reference", "parameters" })
        {
            Assert.True(root.TryGetProperty(key, out _), $"key {key}");
        }

        Assert.True(root.GetProperty("error").GetDouble() < 1e-8, $"error {root.GetProperty("error").GetDouble()}");
        var counts = root.GetProperty("counts");
        Assert.Equal(root.GetProperty("natoms").GetInt32(), counts.GetProperty("qm").GetInt32() + counts.GetProperty("buffer").GetInt32() + counts.GetProperty("mm").GetInt32() + counts.GetProperty("far_field").GetInt32());
        Assert.Equal(root.GetProperty("qm_cluster_size").GetInt32(), counts.GetProperty("qm").GetInt32() + counts.GetProperty("buffer").GetInt32());
    }

    [Fact]
    public void CoupledRelaxRefusesAQmRegionBeyondTheFreeRegion()
    {
        var (code, output, err) = Run("relax", "--model", "eam-w-zhou", "--mm", "eam-w-zhou", "--rmm", "3", "--rqm", "4");
        Assert.Equal(Cli.Cli.UsageError, code);
        Assert.Equal("", output);
        Assert.Contains("--rqm: R_QM = 4 r0 must be below R_MM = 3 r0", err, StringComparison.Ordinal);
    }

    [Fact]
    public void GhostForcesOnThePerfectLatticeAppearForEnergyMixingOnlyAndThePictureIsWritten()
    {
        var png = TestPaths.Temp(".png");
        try
        {
            var (code, output, err) = Run("ghost-forces", "--defect", "none", "--model", "eam-w-zhou", "--mm", "harmonic:eam-w-marinica@bcc:3.1648", "--rmm", "6", "--rqm", "2.5", "--json", "-o", png);
            Assert.True(code == 0, err);
            using var doc = JsonDocument.Parse(output);
            var root = doc.RootElement;
            Assert.True(root.GetProperty("energy").GetProperty("interface").GetDouble() > 1e-3, "ghost forces of E^H");
            Assert.True(root.GetProperty("energy-gfc").GetProperty("interface").GetDouble() < 1e-10, "none with the correction");
            Assert.True(root.GetProperty("force").GetProperty("interface").GetDouble() < 1e-10, "none with force mixing");
            Assert.True(root.GetProperty("force").GetProperty("core").GetDouble() < 1e-10, "the perfect QM core is in equilibrium");
            var bytes = File.ReadAllBytes(png);
            Assert.True(bytes.Length > 1000 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G', "a PNG file");
        }
        finally
        {
            File.Delete(png);
        }
    }
}
