using Qmmm.Host.IO;
using Qmmm.Numerics;
using Xunit;

namespace Qmmm.Host.Tests;

/// <summary>
/// The C# facade end to end, as a C# caller uses it: create a model, build or load a structure, evaluate, get the
/// derivative tensors. Truths: identities (Σ site energies = E, Σ forces = 0), centred finite differences of the
/// energy (forces, virial and the sign of the stress), an independent implementation (the tabulated Zhou setfl file
/// against the analytic Zhou model: 1e-9 eV per atom, 1e-8 eV/Å, measured 1.5e-11 and 2e-9), counts of lattice shells.
/// </summary>
[Collection(RegistryCollection.Name)]
public class FacadeTests
{
    private const double A = 3.1434;

    [Fact]
    public void VersionIsReported() => Assert.Matches(@"^\d+\.\d+\.\d+$", QmmmInfo.Version);

    [Fact]
    public void ResultsWrittenToExtendedXyzStateTheirUnits()
    {
        var cell = Lattices.Bcc("W", A).Periodic(2, 2, 2);
        var withResults = cell.WithResults(Models.Create("eam-w-marinica").Evaluate(cell));
        var text = Qmmm.Host.IO.ExtXyz.ToText(new[] { withResults });
        Assert.Contains("units=\"energy=eV length=Angstrom forces=eV/Angstrom virial=eV stress=eV/Angstrom^3\"", text);
    }

    [Fact]
    public void SiteEnergiesSumToTheEnergyAndForcesSumToZeroOnAPerturbedCell()
    {
        var model = Models.Create("eam-w-marinica");
        var cell = Lattices.Bcc("W", A).Periodic(3, 3, 3).Perturbed(seed: 7, amplitude: 0.1);
        var r = model.Evaluate(cell);
        Assert.Equal(54, r.Count);
        for (var k = 0; k < 3; k++)
        {
            var sum = 0.0;
            for (var i = 0; i < r.Count; i++)
            {
                sum += r.Forces[i, k];
            }

            Assert.True(Math.Abs(sum) < 1e-10, $"sum of forces along {k} is {sum}");
        }

        Assert.True(r.MaxForce > 0.05, "the perturbation must produce forces");
    }

    [Fact]
    public void ThePerfectCrystalHasEqualSiteEnergiesZeroForcesAndAnIsotropicStress()
    {
        var r = Models.Create("eam-w-marinica").Evaluate(Lattices.Bcc("W", A).Periodic(3, 3, 3));
        foreach (var e in r.SiteEnergies)
        {
            Assert.Equal(r.Energy / r.Count, e, 1e-10);
        }

        Assert.True(r.MaxForce < 1e-10, $"max force {r.MaxForce}");
        Assert.NotNull(r.Stress);
        Assert.Equal(r.Stress![0, 0], r.Stress[1, 1], 1e-12);
        Assert.Equal(r.Stress[0, 0], r.Stress[2, 2], 1e-12);
        Assert.Equal(0.0, r.Stress[0, 1], 1e-12);
    }

    [Fact]
    public void ForcesAreMinusTheCentredDifferenceOfTheEnergy()
    {
        var model = Models.Create("eam-w-marinica");
        var cell = Lattices.Bcc("W", A).Periodic(2, 2, 2).Perturbed(seed: 3, amplitude: 0.1);
        var r = model.Evaluate(cell);
        const double h = 1e-5;
        foreach (var (atom, k) in new[] { (0, 0), (5, 1), (11, 2) })
        {
            var plus = cell.Clone();
            plus.Positions[atom, k] += h;
            var minus = cell.Clone();
            minus.Positions[atom, k] -= h;
            var fd = -(model.Evaluate(plus).Energy - model.Evaluate(minus).Energy) / (2 * h);
            Assert.Equal(fd, r.Forces[atom, k], 1e-6);
        }
    }

    [Fact]
    public void VirialIsMinusTheStrainDerivativeAndStressIsMinusVirialOverVolume()
    {
        // ASE's convention: σ = (1/V) ∂E/∂ε, so σ = −W/V with W = −∂E/∂ε. Check both against centred differences of E
        // under the homogeneous deformation F = I ± h e_i e_jᵀ applied to positions and cell vectors.
        var model = Models.Create("eam-w-zhou");
        var cell = Lattices.Bcc("W", 3.16).Periodic(2, 2, 2).Perturbed(seed: 11, amplitude: 0.08);
        var r = model.Evaluate(cell);
        var volume = cell.Volume;
        Assert.Equal(Math.Pow(2 * 3.16, 3), volume, 1e-9);
        const double h = 1e-5;
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                var dE = (model.Evaluate(Deform(cell, i, j, h)).Energy - model.Evaluate(Deform(cell, i, j, -h)).Energy) / (2 * h);
                Assert.Equal(-dE, r.Virial[i, j], 1e-5);
                Assert.Equal(dE / volume, r.Stress![i, j], 1e-7);
                Assert.Equal(-r.Virial[i, j] / volume, r.Stress[i, j], 1e-14);
            }
        }
    }

    [Fact]
    public void TheTabulatedZhouFileAgreesWithTheAnalyticZhouModel()
    {
        var setfl = Models.Create("setfl:" + TestPaths.Potential("W_zhou.eam.alloy"));
        var analytic = Models.Create("eam-w-zhou");
        Assert.Equal(["W"], setfl.Elements);
        Assert.Equal("setfl:W_zhou.eam.alloy", setfl.Name);
        var cell = Lattices.Bcc("W", A).Periodic(4, 4, 4).Perturbed(seed: 1, amplitude: 0.05);
        Assert.Equal(128, cell.Count);
        var t = setfl.Evaluate(cell);
        var z = analytic.Evaluate(cell);
        for (var i = 0; i < cell.Count; i++)
        {
            Assert.Equal(z.SiteEnergies[i], t.SiteEnergies[i], 1e-9);
            for (var k = 0; k < 3; k++)
            {
                Assert.Equal(z.Forces[i, k], t.Forces[i, k], 1e-8);
            }
        }
    }

    [Theory]
    [InlineData(".txt")]
    [InlineData(".eam.fs")]
    public void ASetflFileIsReadWhateverItsExtensionForASingleElement(string extension)
    {
        // With one element the eam/alloy and eam/fs layouts coincide: the same file read either way (by extension,
        // or by content for an unknown extension) must give the same numbers as the .eam.alloy original.
        var original = TestPaths.Potential("W_zhou.eam.alloy");
        var copy = TestPaths.Temp(extension);
        File.Copy(original, copy);
        try
        {
            var cell = Lattices.Bcc("W", A).Periodic(2, 2, 2).Perturbed(seed: 2, amplitude: 0.05);
            var expected = Models.Create("setfl:" + original).Evaluate(cell);
            var actual = Models.Create("setfl:" + copy).Evaluate(cell);
            Assert.Equal(expected.Energy, actual.Energy, 1e-12);
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Fact]
    public void UnknownModelsAndMissingSetflFilesAreReportedClearly()
    {
        var unknown = Assert.Throws<ArgumentException>(() => Models.Create("lj"));
        Assert.StartsWith("unknown model 'lj' (known: eam-w-marinica, eam-w-zhou, setfl:PATH, ", unknown.Message);
        var missing = TestPaths.Temp(".eam.alloy");
        var e = Assert.Throws<QmmmInputException>(() => Models.Create("setfl:" + missing));
        Assert.Equal($"{missing}: no such file", e.Message);
    }

    [Fact]
    public void AMalformedSetflFileNamesFileAndLine()
    {
        var path = TestPaths.Temp(".eam.alloy");
        File.WriteAllText(path, "c1\nc2\nc3\n1 W\n10 0.1 ten 0.1 5.0\n");
        try
        {
            var e = Assert.Throws<QmmmInputException>(() => Models.Create("setfl:" + path));
            Assert.StartsWith($"{path}:5:", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void LatticeDomainsHaveTheExpectedShellCounts()
    {
        var w = Lattices.Bcc("W", A);
        Assert.Equal(A * Math.Sqrt(3) / 2, w.NearestNeighbourDistance, 1e-12);
        // Shells of bcc: 8 at a√3/2, 6 at a, 12 at a√2. A ball of radius 1.05 a holds 1 + 8 + 6 atoms.
        var cluster = w.Cluster(1.05 * A);
        Assert.Equal(15, cluster.Count);
        Assert.Equal(new[] { false, false, false }, cluster.Pbc);
        Assert.Equal((0.0, 0.0, 0.0), cluster.Position(0));
        Assert.Equal(14, w.Stencil(1.05 * A).GetLength(0));
        Assert.Equal(16, w.Periodic(2, 2, 2).Count);
        // Quasi-2D: periodic along z only, one period (a for z = [001]) thick; the disc of radius 1.05 a holds the
        // z = 0 layer sites within it (1 + 4 at distance a) and the z = a/2 layer (4 at distance a/√2).
        var q = w.Quasi2D(1.05 * A);
        Assert.Equal(new[] { false, false, true }, q.Pbc);
        Assert.Equal(A, q.Cell[2, 2], 1e-12);
        Assert.Equal(9, q.Count);
    }

    [Fact]
    public void OrientedLatticesKeepTheirShellsAndRejectNonOrthogonalAxes()
    {
        var w = Lattices.Bcc("W", A).Oriented("1-10", "111", "-1-12");
        Assert.Equal(new[,] { { 1, -1, 0 }, { 1, 1, 1 }, { -1, -1, 2 } }, w.Orientation);
        Assert.Equal(15, w.Cluster(1.05 * A).Count);
        Assert.Equal(A * Math.Sqrt(3) / 2, w.Period(1), 1e-9); // [111] period of bcc: a√3/2
        var e = Assert.ThrowsAny<ArgumentException>(() => Lattices.Bcc("W", A).Oriented("100", "110", "001"));
        Assert.Contains("orthogonal", e.Message);
        Assert.Equal([1, -1, 0], Lattices.ParseDirection("[1,-1,0]"));
        Assert.Equal([-1, -1, 2], Lattices.ParseDirection("-1-12"));
        Assert.Throws<ArgumentException>(() => Lattices.ParseDirection("1x0"));
    }

    [Fact]
    public void AVacancyRemovesTheCoreSiteAndKeepsExtraColumns()
    {
        var cell = Lattices.Bcc("W", A).Periodic(2, 2, 2);
        cell.Columns.Add(XyzColumn.Integer("id", 1, [.. Enumerable.Range(0, 16).Select(i => (long)i)]));
        var v = cell.WithVacancyAtOrigin();
        Assert.Equal(15, v.Count);
        for (var i = 0; i < v.Count; i++)
        {
            var (x, y, z) = v.Position(i);
            Assert.True((x * x) + (y * y) + (z * z) > 1.0, $"atom {i} sits at the origin");
        }

        Assert.Equal(Enumerable.Range(1, 15).Select(i => (long)i), v.Columns[0].Integers!);
    }

    [Fact]
    public void PerturbationsAreReproducibleAndBounded()
    {
        var cell = Lattices.Bcc("W", A).Periodic(2, 2, 2);
        var p1 = cell.Perturbed(5, 0.05);
        var p2 = cell.Perturbed(5, 0.05);
        var p3 = cell.Perturbed(6, 0.05);
        Assert.Equal(p1.Positions, p2.Positions);
        Assert.NotEqual(p1.Positions, p3.Positions);
        for (var i = 0; i < cell.Count; i++)
        {
            for (var k = 0; k < 3; k++)
            {
                Assert.InRange(p1.Positions[i, k] - cell.Positions[i, k], -0.05, 0.05);
            }
        }
    }

    [Fact]
    public void OverlappingAtomsAreRejectedWithALocatedOneLineMessage()
    {
        var path = TestPaths.Temp(".xyz");
        File.WriteAllText(path, "3\nLattice=\"6 0 0 0 6 0 0 0 6\"\nW 0 0 0\nW 3 3 3\nW 3.1 3.2 3.3\n");
        try
        {
            var s = Structure.Load(path);
            var e = Assert.Throws<QmmmInputException>(() => Models.Create("eam-w-marinica").Evaluate(s));
            Assert.Equal($"{path}:5: field 'pos': atoms 1 and 2 are 0.3742 Å apart (closer than 0.5 Å)", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AnAtomTooCloseToItsOwnPeriodicImageIsRejected()
    {
        var s = new Structure(["W"], new double[,] { { 0, 0, 0 } }, new double[,] { { 0.4, 0, 0 }, { 0, 5, 0 }, { 0, 0, 5 } });
        var e = Assert.Throws<QmmmInputException>(s.Validate);
        Assert.Equal("field 'pos': atom 0 is 0.4 Å from its own periodic image (closer than 0.5 Å): the cell is too small", e.Message);
    }

    [Fact]
    public void NanCoordinatesAndUnknownElementsAreRejected()
    {
        var model = Models.Create("eam-w-marinica");
        var nan = new Structure(["W", "W"], new double[,] { { 0, 0, 0 }, { 2.7, double.NaN, 0 } });
        var e = Assert.Throws<QmmmInputException>(() => model.Evaluate(nan));
        Assert.Equal("field 'pos': atom 1: coordinate y is nan, not a finite number", e.Message);
        var fe = new Structure(["W", "Fe"], new double[,] { { 0, 0, 0 }, { 2.7, 0, 0 } });
        e = Assert.Throws<QmmmInputException>(() => model.Evaluate(fe));
        Assert.Equal("field 'species': atom 1 is 'Fe', but model 'eam-w-marinica' knows only W", e.Message);
    }

    [Fact]
    public void ResultsSavedAsExtendedXyzLoadBackUnchanged()
    {
        var model = Models.Create("eam-w-marinica");
        var cell = Lattices.Bcc("W", A).Periodic(2, 2, 2).Perturbed(seed: 4, amplitude: 0.05);
        var r = model.Evaluate(cell);
        var path = TestPaths.Temp(".xyz");
        try
        {
            cell.WithResults(r).Save(path);
            var back = Structure.Load(path);
            Assert.Equal(r.Energy, back.Energy);
            Assert.Equal(r.SiteEnergies, back.SiteEnergies!);
            Assert.Equal(r.Forces, back.Forces!);
            Assert.Equal(r.Virial, back.Virial!);
            Assert.Equal(r.Stress, back.Stress!);
            Assert.Equal(cell.Positions, back.Positions);
            Assert.Equal(r.Energy, model.Evaluate(back).Energy);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ClustersAndQuasi2DDomainsHaveNoStress()
    {
        var model = Models.Create("eam-w-marinica");
        var w = Lattices.Bcc("W", A);
        Assert.Null(model.Evaluate(w.Cluster(6.0)).Stress);
        var q = model.Evaluate(w.Quasi2D(8.0));
        Assert.Null(q.Stress);
    }

    [Fact]
    public void FirstDerivativeTensorIsTheGradientOfTheSiteEnergy()
    {
        // δ¹V^h(0)[ρ, a] = ∂V_0/∂g_ρa, checked against a centred difference of the site energy of the centre atom of a
        // cluster (computed by Model.Evaluate: a different code path from the jets) when neighbour ρ moves along a.
        var model = Models.Create("eam-w-marinica");
        var w = Lattices.Bcc("W", A);
        var t = model.DerivativeTensors(w, 1, model.Cutoff);
        Assert.Equal(1, t.Order);
        var cluster = w.Cluster(model.Cutoff + 0.5);
        const double h = 1e-5;
        var checkedSites = 0;
        foreach (var i in new[] { 0, 8, 14, 26 })
        {
            var atom = FindAtom(cluster, t.Stencil[i, 0], t.Stencil[i, 1], t.Stencil[i, 2]);
            for (var a = 0; a < 3; a++)
            {
                var plus = cluster.Clone();
                plus.Positions[atom, a] += h;
                var minus = cluster.Clone();
                minus.Positions[atom, a] -= h;
                var fd = (model.Evaluate(plus).SiteEnergies[0] - model.Evaluate(minus).SiteEnergies[0]) / (2 * h);
                Assert.Equal(fd, t.Get([i], [a]), 1e-7);
                checkedSites++;
            }
        }

        Assert.Equal(12, checkedSites);

        // EAM4's cutoff 5.4604 Å holds five bcc shells: 8 + 6 + 12 + 24 + 8 = 58 neighbours (the issue's count).
        Assert.Equal(58, t.Count);
    }

    [Fact]
    public void SecondDerivativeTensorIsSymmetricAndMatchesDifferencesOfTheFirst()
    {
        var model = Models.Create("eam-w-marinica");
        var w = Lattices.Bcc("W", A);
        var t2 = model.DerivativeTensors(w, 2, w.NearestNeighbourDistance + 0.01);
        Assert.Equal(2, t2.Order);
        Assert.Equal(9, t2.BlockSize);
        var sites = t2.Sites;
        Assert.Equal(8, sites.Length); // the first shell
        Assert.Equal(8 * 9 / 2, t2.Count);
        // every entry, in both orders, against the independent difference route (gradient differences, Richardson)
        var site = Numerics.Eam.potential(Marinica.model);
        var stencil = LatticeModule.stencil(w.Lattice, model.Cutoff);
        var diff = DifferenceDerivatives.siteTensors(new DifferenceDerivatives.Options(1e-3, true, Environment.ProcessorCount), site, 0, stencil, 2, t2.Radius).Tensor;
        var scale = diff.Values.Max(Math.Abs);
        foreach (var i in sites)
        {
            foreach (var j in sites)
            {
                for (var a = 0; a < 3; a++)
                {
                    for (var b = 0; b < 3; b++)
                    {
                        var reference = SiteTensorModule.get(diff, [i, j], [a, b]);
                        Assert.True(Math.Abs(t2.Get([i, j], [a, b]) - reference) < 1e-7 * scale, $"({i},{j}) [{a},{b}]");
                        Assert.True(Math.Abs(t2.Get([j, i], [b, a]) - reference) < 1e-7 * scale, $"({j},{i}) [{b},{a}]");
                    }
                }
            }
        }

        // δ²V[ρ_i a, ρ_j b] = ∂/∂g_jb of the gradient: centred difference of site energies (four evaluations).
        var cluster = w.Cluster(model.Cutoff + 0.5);
        var (si, sj) = (sites[0], sites[3]);
        var ai = FindAtom(cluster, t2.Stencil[si, 0], t2.Stencil[si, 1], t2.Stencil[si, 2]);
        var aj = FindAtom(cluster, t2.Stencil[sj, 0], t2.Stencil[sj, 1], t2.Stencil[sj, 2]);
        const double h = 1e-4;
        double V(double di, double dj)
        {
            var c = cluster.Clone();
            c.Positions[ai, 0] += di;
            c.Positions[aj, 2] += dj;
            return model.Evaluate(c).SiteEnergies[0];
        }

        var fd = (V(h, h) - V(h, -h) - V(-h, h) + V(-h, -h)) / (4 * h * h);
        Assert.Equal(fd, t2.Get([si, sj], [0, 2]), 1e-5);
    }

    [Fact]
    public void DerivativeTensorArgumentsAreChecked()
    {
        var model = Models.Create("eam-w-marinica");
        Assert.Throws<ArgumentOutOfRangeException>(() => model.DerivativeTensors(Lattices.Bcc("W", A), 5, 3.0));
        Assert.Throws<ArgumentException>(() => model.DerivativeTensors(Lattices.Bcc("W", A), 2, -1.0));
        var e = Assert.Throws<ArgumentException>(() => model.DerivativeTensors(Lattices.Bcc("Mo", 3.15), 1, 3.0));
        Assert.Contains("no element 'Mo'", e.Message);
    }

    [Fact]
    public void NativeThreadCountCanBeSetAndRangeIsChecked()
    {
        var before = NativeLinearAlgebra.Threads;
        Assert.False(string.IsNullOrWhiteSpace(NativeLinearAlgebra.Description));
        Assert.ThrowsAny<ArgumentException>(() => NativeLinearAlgebra.SetThreads(0));
        NativeLinearAlgebra.SetThreads(1);
        try
        {
            // OpenBLAS reports the count it was given; without OpenBLAS the count stays 1.
            Assert.Equal(1, NativeLinearAlgebra.Threads);
        }
        finally
        {
            NativeLinearAlgebra.SetThreads(Math.Max(1, before));
        }
    }

    private static Structure Deform(Structure s, int i, int j, double h)
    {
        var d = s.Clone();
        for (var row = 0; row < d.Count; row++)
        {
            d.Positions[row, i] += h * s.Positions[row, j];
        }

        for (var row = 0; row < 3; row++)
        {
            d.Cell[row, i] += h * s.Cell[row, j];
        }

        return d;
    }

    private static int FindAtom(Structure s, double x, double y, double z)
    {
        for (var i = 0; i < s.Count; i++)
        {
            var (px, py, pz) = s.Position(i);
            if (Math.Abs(px - x) < 1e-9 && Math.Abs(py - y) < 1e-9 && Math.Abs(pz - z) < 1e-9)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"no atom at ({x}, {y}, {z})");
    }
}
