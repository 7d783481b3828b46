using System.Globalization;
using Qmmm.Numerics;

namespace Qmmm.Host;

/// <summary>
/// An interatomic model as C# callers use it: evaluates structures (energy, site energies, forces, virial, stress)
/// and gives the exact derivative tensors δʲV^h(0) of its site energy at a lattice (3.1). Create one with
/// <see cref="Models.Create"/>. Thread-safe: a model holds no mutable state.
/// </summary>
public sealed class Model
{
    internal Model(string spec, EamModel eam)
    {
        Spec = spec;
        Eam = eam;
        Potential = Numerics.Eam.potential(eam);
    }

    internal EamModel Eam { get; }

    internal ISitePotential Potential { get; }

    /// <summary>The specification the model was created from (e.g. <c>eam-w-marinica</c>, <c>setfl:W_zhou.eam.alloy</c>).</summary>
    public string Spec { get; }

    /// <summary>The model's name.</summary>
    public string Name => Potential.Name;

    /// <summary>Interaction cutoff (Å).</summary>
    public double Cutoff => Potential.Cutoff;

    /// <summary>The element symbols the model knows.</summary>
    public string[] Elements => (string[])Potential.Elements.Clone();

    /// <summary>
    /// Energy E (eV), site energies E_ℓ (eV), forces (N×3, eV/Å), virial W = −∂E/∂ε (3×3, eV) and, for a fully
    /// periodic cell, the stress σ = −W/V (3×3, eV/Å³) of <paramref name="structure"/>. The structure is validated first
    /// as by <see cref="Structure.Validate"/> (finite coordinates, no two atoms or periodic images closer than 0.5 Å; the
    /// overlap test reuses the model's neighbour list) and its elements must be known to the model.
    /// </summary>
    /// <exception cref="QmmmException">The structure is invalid for this model (message names file, line and field when the structure came from a file).</exception>
    public Evaluation Evaluate(Structure structure)
    {
        ArgumentNullException.ThrowIfNull(structure);
        structure.CheckFinite();
        for (var i = 0; i < structure.Count; i++)
        {
            if (Array.IndexOf(Potential.Elements, structure.Species[i]) < 0)
            {
                throw new QmmmException(structure.Locate(i, "species", $"atom {i} is '{structure.Species[i]}', but model '{Name}' knows only {string.Join(", ", Potential.Elements)}"));
            }
        }

        var config = structure.ToConfiguration();
        var nl = Neighbours.build(Potential.Cutoff, config);

        // Overlap check from the list just built (the cutoff exceeds the 0.5 Å threshold, so the closest pair is in it
        // whenever it matters): the same test as Structure.Validate without a second neighbour search.
        var (ci, cj, cd) = (-1, -1, double.PositiveInfinity);
        for (var i = 0; i < nl.Count; i++)
        {
            for (var k = nl.Start[i]; k < nl.Start[i + 1]; k++)
            {
                var d = nl.Distances[k];
                var j = nl.Index[k];
                var (lo, hi) = i <= j ? (i, j) : (j, i);
                if (d < cd || (d == cd && (lo < ci || (lo == ci && hi < cj))))
                {
                    (ci, cj, cd) = (lo, hi, d);
                }
            }
        }

        structure.CheckSeparation(ci, cj, cd);
        if (Potential.Cutoff <= Structure.MinimumSeparation)
        {
            structure.Validate(); // a model with a tiny cutoff: search the closest pair separately
        }
        var r = Numerics.Evaluate.all(Potential, config, nl);
        var stress = structure.IsFullyPeriodic ? Numerics.Evaluate.stress(config, r) : null;
        return Evaluation.Create(Name, r.Energy, r.SiteEnergies, r.Forces, r.Virial, stress);
    }

    /// <summary>
    /// The exact derivative tensor δʲV^h(0), j = <paramref name="order"/> (1..4), of the site energy of the lattice's
    /// element at the homogeneous lattice <paramref name="lattice"/> (3.1): every sorted tuple of neighbours ρ with
    /// |ρ| ≤ <paramref name="radius"/> (Å) and all 3^j Cartesian components, computed with jets through the pooled form
    /// V(g) = G(Σ_j ψ(g_j)) (no finite differences). The site interacts with the stencil Λ^h_* ∩ B_cutoff.
    /// </summary>
    /// <exception cref="ArgumentException">order outside 1..4, radius not positive, or the lattice's element unknown to the model.</exception>
    public DerivativeTensor DerivativeTensors(LatticeSpec lattice, int order, double radius)
    {
        ArgumentNullException.ThrowIfNull(lattice);
        if (order is < 1 or > 4)
        {
            throw new ArgumentOutOfRangeException(nameof(order), order, "derivative order must lie in 1..4");
        }

        if (!double.IsFinite(radius) || radius <= 0)
        {
            throw new ArgumentException($"radius must be a positive number (Å), got {radius.ToString(CultureInfo.InvariantCulture)}", nameof(radius));
        }

        var species = Array.IndexOf(Eam.Elements, lattice.Element);
        if (species < 0)
        {
            throw new ArgumentException($"model '{Name}' has no element '{lattice.Element}' (it knows {string.Join(", ", Eam.Elements)})", nameof(lattice));
        }

        var pooled = Pooled.ofEam(Eam, species);
        var stencil = LatticeModule.stencil(lattice.Lattice, Eam.Cutoff);
        var tensor = Derivatives.siteTensors(pooled, stencil, order, radius);
        return new DerivativeTensor(tensor, Name);
    }

    /// <summary>The model's name and cutoff, e.g. <c>eam-w-marinica (cutoff 5.4604375 Å)</c>.</summary>
    public override string ToString() => $"{Name} (cutoff {Cutoff.ToString("R", CultureInfo.InvariantCulture)} Å)";
}
