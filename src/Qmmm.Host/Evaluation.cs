namespace Qmmm.Host;

/// <summary>
/// What a model computes for one structure: total energy E (eV), site energies E_ℓ (eV; they sum to E), forces
/// F = −∂E/∂y (N×3, eV/Å), virial W = −∂E/∂ε = −Σ_ℓ Σ_j g_j ⊗ ∂V_ℓ/∂g_j (3×3, eV) and, for fully periodic cells,
/// the stress σ = −W/V (3×3, eV/Å³, ASE's sign). Shapes are checked on construction (STYLE 8).
/// </summary>
public sealed class Evaluation
{
    /// <summary>Creates an evaluation; shapes are checked (forces N×3, site energies N or none, virial and stress 3×3).</summary>
    /// <exception cref="ArgumentException">A shape does not match the number of atoms.</exception>
    public Evaluation(string model, double energy, double[] siteEnergies, double[,] forces, double[,] virial, double[,]? stress)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(siteEnergies);
        ArgumentNullException.ThrowIfNull(forces);
        ArgumentNullException.ThrowIfNull(virial);
        var n = forces.GetLength(0);
        if (forces.GetLength(1) != 3)
        {
            throw new ArgumentException($"forces must be Nx3, got {forces.GetLength(0)}x{forces.GetLength(1)}", nameof(forces));
        }

        if (siteEnergies.Length != n && siteEnergies.Length != 0)
        {
            throw new ArgumentException($"site energies must number {n} (one per atom) or none, got {siteEnergies.Length}", nameof(siteEnergies));
        }

        if (virial.GetLength(0) != 3 || virial.GetLength(1) != 3)
        {
            throw new ArgumentException($"virial must be 3x3, got {virial.GetLength(0)}x{virial.GetLength(1)}", nameof(virial));
        }

        if (stress is not null && (stress.GetLength(0) != 3 || stress.GetLength(1) != 3))
        {
            throw new ArgumentException($"stress must be 3x3, got {stress.GetLength(0)}x{stress.GetLength(1)}", nameof(stress));
        }

        Model = model;
        Energy = energy;
        SiteEnergies = siteEnergies;
        Forces = forces;
        Virial = virial;
        Stress = stress;
    }

    /// <summary>Name of the model that produced the numbers (e.g. <c>eam-w-marinica</c>).</summary>
    public string Model { get; }

    /// <summary>Total energy E (eV).</summary>
    public double Energy { get; }

    /// <summary>Site energies E_ℓ (eV), one per atom, summing to <see cref="Energy"/>; empty when the model defines none.</summary>
    public double[] SiteEnergies { get; }

    /// <summary>Forces F_ℓ = −∂E/∂y_ℓ, N×3 (eV/Å).</summary>
    public double[,] Forces { get; }

    /// <summary>Virial W = −∂E/∂ε (eV), 3×3, row-major indices [i, j].</summary>
    public double[,] Virial { get; }

    /// <summary>Stress σ = −W/V (eV/Å³), 3×3; null unless the cell is periodic along all three axes.</summary>
    public double[,]? Stress { get; }

    /// <summary>Number of atoms.</summary>
    public int Count => Forces.GetLength(0);

    /// <summary>Force on atom <paramref name="i"/> (eV/Å).</summary>
    public Vector3D Force(int i) => new(Forces[i, 0], Forces[i, 1], Forces[i, 2]);

    /// <summary>The forces as vectors (eV/Å), one per atom, for LINQ: <c>ForceVectors.Max(f =&gt; f.Norm)</c>.</summary>
    public IReadOnlyList<Vector3D> ForceVectors => [.. Enumerable.Range(0, Count).Select(Force)];

    /// <summary>The forces flattened, 3 numbers per atom (x y z of atom 0 first; eV/Å), a copy.</summary>
    public double[] FlatForces => Structure.Flatten(Forces);

    /// <summary>Energy per atom E/N (eV); NaN for an empty structure.</summary>
    public double EnergyPerAtom => Count == 0 ? double.NaN : Energy / Count;

    /// <summary>Largest force norm max_ℓ |F_ℓ| (eV/Å); 0 for an empty structure.</summary>
    public double MaxForce
    {
        get
        {
            var m = 0.0;
            for (var i = 0; i < Count; i++)
            {
                m = Math.Max(m, Math.Sqrt((Forces[i, 0] * Forces[i, 0]) + (Forces[i, 1] * Forces[i, 1]) + (Forces[i, 2] * Forces[i, 2])));
            }

            return m;
        }
    }

    /// <summary>Conversion factor from eV/Å³ to GPa (1 eV/Å³ = 160.21766208 GPa).</summary>
    public const double EvPerCubicAngstromInGpa = 160.21766208;

    internal static Evaluation Create(string model, double energy, double[] site, double[] forces3N, double[] virial9, double[]? stress9) =>
        new(model, energy, site, Structure.Unflatten(forces3N), Structure.Unflatten(virial9), stress9 is null ? null : Structure.Unflatten(stress9));
}
