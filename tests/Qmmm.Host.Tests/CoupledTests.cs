using Xunit;

namespace Qmmm.Host.Tests;

/// <summary>
/// Coupled relaxations through the facade (<see cref="DefectSystem.RelaxCoupled"/>): with MM = QM the coupled solution
/// is the reference solution (error at solver tolerance); with a mismatched MM model (the harmonic expansion of a
/// different EAM) it is not; region tags and counts agree with an independent classification by distance.
/// </summary>
[Collection(RegistryCollection.Name)]
public class CoupledTests
{
    [Fact]
    public void ForceMixingWithMmEqualToQmReproducesTheReferenceSolution()
    {
        var qm = Models.Create("eam-w-zhou");
        var system = DefectSystem.Create(qm, new DefectOptions { Defect = DefectType.Vacancy, Rmm = 4 });
        var r = system.RelaxCoupled(qm, new CouplingOptions { Scheme = CouplingSchemeKind.Force, Rqm = 1.5, Reference = true }, new RelaxOptions { Tolerance = 1e-10 });
        Assert.NotNull(r.Error);
        Assert.True(r.Error < 1e-8, $"error {r.Error}");
        Assert.True(r.Residual <= 1e-10);
        Assert.True(r.QmEvaluations > 0);
        Assert.Equal(system.AtomCount, r.Counts.Qm + r.Counts.Buffer + r.Counts.Mm + r.Counts.FarField);
        Assert.Equal(5 * system.R0, r.Rbuf, 1e-12); // ceil(2 × 7.8925 / a) r0 by default

        // region tags against the distance from the core (vacancy at the origin, quasi-2D: in-plane distance)
        var s = r.Structure;
        var region = s.Columns.Single(c => c.Name == "region").Strings!;
        var qmCount = 0;
        for (var i = 0; i < s.Count; i++)
        {
            var u = s.Columns.Single(c => c.Name == "u").Reals!;
            var x = s.Positions[i, 0] - u[3 * i];
            var y = s.Positions[i, 1] - u[(3 * i) + 1];
            var d = Math.Sqrt((x * x) + (y * y));
            Assert.Equal(d < r.Rqm, region[i] == "QM");
            qmCount += region[i] == "QM" ? 1 : 0;
        }

        Assert.Equal(r.Counts.Qm, qmCount);
    }

    [Fact]
    public void AMismatchedMmModelGivesANonZeroErrorForEachScheme()
    {
        var qm = Models.Create("eam-w-zhou");
        var mm = Models.Create("harmonic:eam-w-marinica@bcc:3.1648");
        var system = DefectSystem.Create(qm, new DefectOptions { Defect = DefectType.Vacancy, Rmm = 4 });
        foreach (var scheme in new[] { CouplingSchemeKind.Energy, CouplingSchemeKind.EnergyGfc, CouplingSchemeKind.Force })
        {
            var r = system.RelaxCoupled(mm, new CouplingOptions { Scheme = scheme, Rqm = 1.5, Reference = true }, new RelaxOptions { Tolerance = 1e-8 });
            Assert.True(r.Error > 1e-4, $"{scheme}: error {r.Error}");
            Assert.True(r.Residual <= 1e-8, $"{scheme}: residual {r.Residual}");
        }
    }

    [Fact]
    public void InconsistentRadiiAreRefusedWithTheReason()
    {
        var qm = Models.Create("eam-w-zhou");
        var system = DefectSystem.Create(qm, new DefectOptions { Defect = DefectType.Vacancy, Rmm = 4 });
        var e = Assert.ThrowsAny<ArgumentException>(() => system.RelaxCoupled(qm, new CouplingOptions { Rqm = 5 }));
        Assert.Contains("below R_MM", e.Message, StringComparison.Ordinal);
        Assert.ThrowsAny<ArgumentException>(() => system.RelaxCoupled(qm, new CouplingOptions { Rqm = double.NaN }));
    }

    [Fact]
    public void ASolverThatMissesItsToleranceIsAHostComputationExceptionCarryingItsNumbers()
    {
        var qm = Models.Create("eam-w-zhou");
        var system = DefectSystem.Create(qm, new DefectOptions { Defect = DefectType.Vacancy, Rmm = 3 });
        var e = Assert.Throws<QmmmComputationException>(() => system.Relax(new RelaxOptions { Tolerance = 1e-12, MaxIterations = 2, MaxNewtonIterations = 0 }));
        Assert.Equal(1e-12, e.Tolerance);
        Assert.True(e.Iterations >= 2, $"iterations {e.Iterations}");
        Assert.True(e.Residual > 1e-12, $"residual {e.Residual}");
        Assert.IsType<Numerics.ConvergenceException>(e.InnerException);
    }
}
