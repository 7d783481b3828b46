namespace Qmmm.Host.Tests;

/// <summary>
/// A Lennard-Jones site potential written in C# against the facade's <see cref="ISiteEnergyModel"/>: V_ℓ = ½ Σ_j φ(r_j)
/// with φ(r) = 4ε[(σ/r)^12 − (σ/r)^6] times a C² taper (1 − t³(6t² − 15t + 10) for t = (r − r_in)/(r_c − r_in)) between
/// r_in and r_c, so that energies and forces are smooth at the cutoff. Closed forms below are the test's truths.
/// </summary>
internal sealed class LennardJones(double epsilon = 0.2, double sigma = 2.5, double rIn = 6.0, double rCut = 7.0) : ISiteEnergyModel
{
    public string Name => "lj-csharp";

    public double Cutoff => rCut;

    public IReadOnlyList<string> Elements { get; } = ["Ar"];

    public double Epsilon => epsilon;

    public double Sigma => sigma;

    /// <summary>φ(r) and φ'(r) of the tapered pair potential.</summary>
    public (double Phi, double Dphi) Pair(double r)
    {
        if (r >= rCut)
        {
            return (0, 0);
        }

        var s6 = Math.Pow(sigma / r, 6);
        var lj = 4 * epsilon * ((s6 * s6) - s6);
        var dlj = 4 * epsilon * ((-12 * s6 * s6) + (6 * s6)) / r;
        if (r <= rIn)
        {
            return (lj, dlj);
        }

        var t = (r - rIn) / (rCut - rIn);
        var f = 1 - (t * t * t * ((t * ((6 * t) - 15)) + 10));
        var df = -30 * t * t * (t - 1) * (t - 1) / (rCut - rIn);
        return (lj * f, (dlj * f) + (lj * df));
    }

    public double SiteEnergy(int species, ReadOnlySpan<double> neighbours, ReadOnlySpan<int> neighbourSpecies, Span<double> gradient)
    {
        var e = 0.0;
        for (var k = 0; k < neighbourSpecies.Length; k++)
        {
            var x = neighbours[3 * k];
            var y = neighbours[(3 * k) + 1];
            var z = neighbours[(3 * k) + 2];
            var r = Math.Sqrt((x * x) + (y * y) + (z * z));
            var (phi, dphi) = Pair(r);
            e += 0.5 * phi;
            if (!gradient.IsEmpty)
            {
                var c = r > 0 ? 0.5 * dphi / r : 0.0;
                gradient[3 * k] = c * x;
                gradient[(3 * k) + 1] = c * y;
                gradient[(3 * k) + 2] = c * z;
            }
        }

        return e;
    }
}

/// <summary>The same Lennard-Jones energy as a whole-configuration C# model (<see cref="IConfigurationModel"/>): a pair loop.</summary>
internal sealed class LennardJonesPairs(LennardJones lj) : IConfigurationModel
{
    public string Name => "lj-pairs-csharp";

    public double Cutoff => lj.Cutoff;

    public IReadOnlyList<string> Elements => lj.Elements;

    public bool HasSiteEnergies => true;

    public void Evaluate(ModelInput input, ModelOutput output)
    {
        var e = 0.0;
        var forces = output.Forces;
        var virial = output.Virial;
        if (input.WantsForces)
        {
            forces.Clear();
            virial.Clear();
        }

        for (var i = 0; i < input.Count; i++)
        {
            var site = 0.0;
            foreach (var (j, r) in input.Neighbours(i, lj.Cutoff))
            {
                var (phi, dphi) = lj.Pair(r.Norm);
                site += 0.5 * phi;
                if (input.WantsForces)
                {
                    // dE/dy_j of the half pair energy of site i: ½ φ'(r) r̂; i gets the opposite
                    var c = 0.5 * dphi / r.Norm;
                    forces[3 * j] -= c * r.X;
                    forces[(3 * j) + 1] -= c * r.Y;
                    forces[(3 * j) + 2] -= c * r.Z;
                    forces[3 * i] += c * r.X;
                    forces[(3 * i) + 1] += c * r.Y;
                    forces[(3 * i) + 2] += c * r.Z;
                    double[] g = [c * r.X, c * r.Y, c * r.Z];
                    double[] v = [r.X, r.Y, r.Z];
                    for (var a = 0; a < 3; a++)
                    {
                        for (var b = 0; b < 3; b++)
                        {
                            virial[(3 * a) + b] -= v[a] * g[b];
                        }
                    }
                }
            }

            if (input.WantsSiteEnergies)
            {
                output.SiteEnergies[i] = site;
            }

            e += site;
        }

        output.Energy = e;
    }
}
