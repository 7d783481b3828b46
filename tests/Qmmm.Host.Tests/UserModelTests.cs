using Xunit;

namespace Qmmm.Host.Tests;

/// <summary>
/// Models written in C# plug in everywhere a built-in model does: a Lennard-Jones site energy (and the same energy as a
/// whole-configuration pair loop) against the closed-form Lennard-Jones dimer and trimer energies and forces, and its
/// derivative tensor δ²V^h(0) (by differences) against the closed-form pair Hessian.
/// </summary>
public class UserModelTests
{
    private const double Eps = 0.2;
    private const double Sig = 2.5;

    private static double Phi(double r) => 4 * Eps * (Math.Pow(Sig / r, 12) - Math.Pow(Sig / r, 6));

    private static double Dphi(double r) => 4 * Eps * ((-12 * Math.Pow(Sig / r, 12)) + (6 * Math.Pow(Sig / r, 6))) / r;

    private static double D2phi(double r) => 4 * Eps * ((156 * Math.Pow(Sig / r, 12)) - (42 * Math.Pow(Sig / r, 6))) / (r * r);

    private static Structure Cluster(params double[][] xyz)
    {
        var p = new double[xyz.Length, 3];
        for (var i = 0; i < xyz.Length; i++)
        {
            for (var k = 0; k < 3; k++)
            {
                p[i, k] = xyz[i][k];
            }
        }

        return new Structure([.. Enumerable.Repeat("Ar", xyz.Length)], p);
    }

    /// <summary>Closed-form pair energy and forces F_i = Σ_j φ'(r_ij)(y_j − y_i)/r_ij of a cluster.</summary>
    private static (double E, double[,] F) ClosedForm(Structure s)
    {
        var e = 0.0;
        var f = new double[s.Count, 3];
        for (var i = 0; i < s.Count; i++)
        {
            for (var j = i + 1; j < s.Count; j++)
            {
                double[] d = [s.Positions[j, 0] - s.Positions[i, 0], s.Positions[j, 1] - s.Positions[i, 1], s.Positions[j, 2] - s.Positions[i, 2]];
                var r = Math.Sqrt((d[0] * d[0]) + (d[1] * d[1]) + (d[2] * d[2]));
                e += Phi(r);
                for (var k = 0; k < 3; k++)
                {
                    f[i, k] += Dphi(r) * d[k] / r;
                    f[j, k] -= Dphi(r) * d[k] / r;
                }
            }
        }

        return (e, f);
    }

    public static TheoryData<string> Kinds => new() { "site", "pairs" };

    private static Model Create(string kind) =>
        kind == "site" ? Model.FromSiteEnergy(new LennardJones(Eps, Sig)) : Model.FromConfigurationModel(new LennardJonesPairs(new LennardJones(Eps, Sig)));

    [Theory]
    [MemberData(nameof(Kinds))]
    public void TheDimerEnergyAndForcesAreTheClosedFormOnes(string kind)
    {
        var model = Create(kind);
        foreach (var r in new[] { 2.6, 2.806, 3.3, 4.5 })
        {
            var s = Cluster([0.1, -0.2, 0.3], [0.1 + r, -0.2, 0.3]);
            var ev = model.Evaluate(s);
            Assert.Equal(Phi(r), ev.Energy, 1e-12);
            Assert.Equal(Dphi(r), ev.Force(0).X, 1e-12);
            Assert.Equal(-Dphi(r), ev.Force(1).X, 1e-12);
            Assert.Equal(0.0, ev.Force(1).Y, 1e-14);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void TheTrimerEnergyAndForcesAreTheClosedFormOnes(string kind)
    {
        var s = Cluster([0, 0, 0], [3.1, 0.2, -0.1], [1.2, 2.9, 0.4]);
        var ev = Create(kind).Evaluate(s);
        var (e, f) = ClosedForm(s);
        Assert.Equal(e, ev.Energy, 1e-12);
        for (var i = 0; i < 3; i++)
        {
            for (var k = 0; k < 3; k++)
            {
                Assert.Equal(f[i, k], ev.Forces[i, k], 1e-12);
            }
        }
    }

    [Fact]
    public void SiteAndPairFormsAgreeOnAPerturbedPeriodicCellIncludingTheVirial()
    {
        var cell = Lattices.Fcc("Ar", 5.3).Periodic(3, 3, 3).Perturbed(seed: 5, amplitude: 0.15);
        var a = Create("site").Evaluate(cell);
        var b = Create("pairs").Evaluate(cell);
        Assert.Equal(a.Energy, b.Energy, 1e-10);
        for (var i = 0; i < a.Count; i++)
        {
            Assert.Equal(a.SiteEnergies[i], b.SiteEnergies[i], 1e-12);
            Assert.True((a.Force(i) - b.Force(i)).Norm < 1e-11, $"force {i}");
        }

        for (var x = 0; x < 3; x++)
        {
            for (var y = 0; y < 3; y++)
            {
                Assert.Equal(a.Virial[x, y], b.Virial[x, y], 1e-9);
            }
        }
    }

    [Fact]
    public void TheSecondDerivativeTensorOfTheCSharpModelIsTheClosedFormPairHessian()
    {
        // V = ½ Σ_ρ φ(|g_ρ|): δ²V blocks (ρ, ρ) = ½[φ'' ρ̂ρ̂ᵀ + φ'/r (I − ρ̂ρ̂ᵀ)], (ρ, σ ≠ ρ) = 0
        var model = Model.FromSiteEnergy(new LennardJones(Eps, Sig));
        Assert.False(model.HasExactDerivatives);
        var lattice = Lattices.Fcc("Ar", 5.26);
        var t = model.DerivativeTensors(lattice, 2, 3.8);
        Assert.NotNull(t.ErrorEstimate);
        var stencil = t.Stencil;
        var scale = 0.5 * D2phi(5.26 / Math.Sqrt(2));
        for (var k = 0; k < t.Count; k++)
        {
            var tuple = t.Tuple(k);
            var block = t.Block(k);
            double[] rho = [stencil[tuple[0], 0], stencil[tuple[0], 1], stencil[tuple[0], 2]];
            var r = Math.Sqrt((rho[0] * rho[0]) + (rho[1] * rho[1]) + (rho[2] * rho[2]));
            for (var a = 0; a < 3; a++)
            {
                for (var b = 0; b < 3; b++)
                {
                    var expected = tuple[0] != tuple[1]
                        ? 0.0
                        : 0.5 * ((D2phi(r) * rho[a] * rho[b] / (r * r)) + (Dphi(r) / r * ((a == b ? 1 : 0) - (rho[a] * rho[b] / (r * r)))));
                    Assert.True(Math.Abs(block[(3 * a) + b] - expected) < 1e-8 * Math.Abs(scale), $"tuple ({tuple[0]},{tuple[1]}) [{a},{b}]: {block[(3 * a) + b]} vs {expected}");
                }
            }
        }
    }

    [Fact]
    public void AWholeConfigurationModelHasNoDerivativeTensors()
    {
        var model = Create("pairs");
        var e = Assert.Throws<ArgumentException>(() => model.DerivativeTensors(Lattices.Fcc("Ar", 5.26), 2, 3.8));
        Assert.Contains("no site-energy gradient", e.Message);
    }

    [Fact]
    public void ANonFiniteResultIsAComputationErrorNamingTheModelAndAtom()
    {
        var model = Model.FromSiteEnergy(new NanAtTwo());
        var s = Cluster([0, 0, 0], [2.5, 0, 0], [5.0, 0.1, 0]);
        var e = Assert.Throws<QmmmComputationException>(() => model.Evaluate(s));
        Assert.Contains("'nan-at-two'", e.Message);
        Assert.Contains("atom 2", e.Message);
    }

    /// <summary>A model whose site energy is NaN for an atom with exactly one neighbour beyond 3 Å.</summary>
    private sealed class NanAtTwo : ISiteEnergyModel
    {
        public string Name => "nan-at-two";

        public double Cutoff => 3.0;

        public IReadOnlyList<string> Elements { get; } = ["Ar"];

        public double SiteEnergy(int species, ReadOnlySpan<double> neighbours, ReadOnlySpan<int> neighbourSpecies, Span<double> gradient)
        {
            gradient.Clear();
            // atom 2 (at x = 5) has one neighbour at x = −2.5
            return neighbourSpecies.Length == 1 && neighbours[0] < 0 ? double.NaN : 0.1 * neighbourSpecies.Length;
        }
    }
}

/// <summary>The model registry: names and prefixes map to constructors; unknown names list what is known.</summary>
[Collection(RegistryCollection.Name)]
public class RegistryTests
{
    [Fact]
    public void TheBuiltInModelsAreRegisteredWithExamples()
    {
        var names = Models.Registered.Select(e => e.Name).ToArray();
        Assert.Contains("eam-w-marinica", names);
        Assert.Contains("eam-w-zhou", names);
        Assert.Contains("setfl:", names);
        Assert.Contains("setfl:PATH", Models.Known);
    }

    [Fact]
    public void ARegisteredCSharpModelIsCreatedByNameAndPrefixesTakeTheirArgument()
    {
        Models.Register("test-lj:", "Lennard-Jones with sigma given after the colon",
            arg => Model.FromSiteEnergy(new LennardJones(0.2, double.Parse(arg, System.Globalization.CultureInfo.InvariantCulture))));
        try
        {
            var m = Models.Create("test-lj:2.7");
            var dimer = new Structure(["Ar", "Ar"], new double[,] { { 0, 0, 0 }, { 3.0, 0, 0 } });
            var s6 = Math.Pow(2.7 / 3.0, 6);
            Assert.Equal(4 * 0.2 * ((s6 * s6) - s6), m.Evaluate(dimer).Energy, 1e-12);
            var e = Assert.Throws<ArgumentException>(() => Models.Create("test-lj:"));
            Assert.Contains("needs an argument", e.Message);
        }
        finally
        {
            Assert.True(Models.Unregister("test-lj:"));
        }

        Assert.DoesNotContain(Models.Registered, e => e.Name == "test-lj:");
    }

    [Fact]
    public void AnUnknownModelListsTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => Models.Create("eam-w-nonesuch"));
        Assert.Contains("unknown model 'eam-w-nonesuch'", e.Message);
        Assert.Contains("eam-w-marinica", e.Message);
    }
}

/// <summary>Tests that change or read the global model registry run one at a time (not in parallel with each other).</summary>
[CollectionDefinition(Name)]
public sealed class RegistryCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "model registry";
}
