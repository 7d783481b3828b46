using Qmmm.Numerics;
using Xunit;

namespace Qmmm.Host.Tests;

/// <summary>The <c>nrltb-si</c> registry entry: option parsing, errors naming the key, and the facade routes.</summary>
[Collection(RegistryCollection.Name)]
public class NrlTightBindingTests
{
    [Fact]
    public void DefaultsAreZeroTemperatureGammaSpinTwoAtThePapersFermiLevel()
    {
        var o = NrlTightBinding.ParseOptions("");
        Assert.Equal(5.5212408, o.ChemicalPotential);
        Assert.Equal(0.0, o.Temperature);
        Assert.Equal(2.0, o.SpinFactor);
        Assert.Equal([1, 1, 1], o.KPoints.Divisions);
        Assert.Equal("nrltb-si(spin=2,eF=5.5212408,kT=0,k=1x1x1)", Models.Create("nrltb-si").Name);
    }

    [Fact]
    public void OptionsAreParsed()
    {
        var o = NrlTightBinding.ParseOptions("beta=20, eF=5.6,k=4x2x1,mp=1,spin=1,cutoff=energyshift");
        Assert.Equal(0.05, o.Temperature, 1e-15);
        Assert.Equal(5.6, o.ChemicalPotential);
        Assert.Equal(1.0, o.SpinFactor);
        Assert.Equal([4, 2, 1], o.KPoints.Divisions);
        Assert.False(o.KPoints.GammaCentred);
        Assert.Equal(NrlCutoff.EnergyShift, o.Cutoff);
        Assert.Equal(0.1, NrlTightBinding.ParseOptions("kT=0.1").Temperature);
    }

    [Theory]
    [InlineData("foo=1", "unknown key 'foo'")]
    [InlineData("kT=-1", "kT must be a number >= 0")]
    [InlineData("k=4x4", "k must be N1xN2xN3")]
    [InlineData("spin=3", "spin must be 1 or 2")]
    [InlineData("cutoff=smooth", "cutoff must be original, energyshift or forceshift")]
    [InlineData("kT", "expected KEY=VALUE")]
    public void BadOptionsNameTheKey(string args, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => Models.Create("nrltb-si:" + args));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void SpinFactorOneHalvesEnergiesAndForces()
    {
        var s = Lattices.Diamond("Si", 5.43).Periodic(1, 1, 1).Perturbed(3, 0.05);
        var two = Models.Create("nrltb-si").Evaluate(s);
        var one = Models.Create("nrltb-si:spin=1").Evaluate(s);
        Assert.Equal(two.Energy / 2, one.Energy, 1e-10);
        Assert.Equal(two.Forces[3, 1] / 2, one.Forces[3, 1], 1e-10);
    }

    [Fact]
    public void DerivativeTensorsGoThroughTheDifferenceRoute()
    {
        var m = Models.Create("nrltb-si");
        Assert.False(m.HasExactDerivatives);
        var t = m.DerivativeTensors(Lattices.Diamond("Si", 5.43), 1, 2.4);
        // the 4 nearest neighbours lie on 3-fold axes of the site group: each gradient is parallel to its ρ, all of
        // the same length
        Assert.Equal(4, t.Count);
        var lengths = new List<double>();
        for (var k = 0; k < t.Count; k++)
        {
            var site = t.Tuple(k)[0];
            var g = t.Block(k);
            var rho = new[] { t.Stencil[site, 0], t.Stencil[site, 1], t.Stencil[site, 2] };
            var gn = Math.Sqrt((g[0] * g[0]) + (g[1] * g[1]) + (g[2] * g[2]));
            var rn = Math.Sqrt((rho[0] * rho[0]) + (rho[1] * rho[1]) + (rho[2] * rho[2]));
            var cos = ((g[0] * rho[0]) + (g[1] * rho[1]) + (g[2] * rho[2])) / (gn * rn);
            Assert.Equal(1.0, Math.Abs(cos), 1e-10);
            lengths.Add(gn);
        }

        Assert.True(lengths.Max() - lengths.Min() < 1e-10 * lengths.Max(), "equal lengths");
    }
}
