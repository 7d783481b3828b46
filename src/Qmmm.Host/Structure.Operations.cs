using Qmmm.Numerics;

namespace Qmmm.Host;

/// <summary>
/// Operations that make defective or perturbed structures from a domain (Section 2.1): a vacancy, the defective
/// reference Λ = Λ^h ∖ {0} (vacancy at the core site), random displacements with an explicit seed. Each returns a new
/// structure; extra per-atom columns follow the atoms, info keys are kept, results (energy, forces, ...) are dropped
/// because they no longer describe the structure.
/// </summary>
public sealed partial class Structure
{
    /// <summary>A copy without atom <paramref name="index"/> (0-based); the other atoms keep their order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">index is not an atom of the structure.</exception>
    public Structure WithoutAtom(int index)
    {
        var structure = this;
        if (index < 0 || index >= structure.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"atom index must lie in [0, {structure.Count - 1}]");
        }

        var config = Numerics.Domains.vacancy(structure.ToConfiguration(), index);
        return Carry(structure, Structure.FromConfiguration(config), i => i != index);
    }

    /// <summary>The defective reference Λ = Λ^h ∖ {0}: removes the atom nearest to the origin (the defect core).</summary>
    /// <exception cref="ArgumentException">The structure has no atoms.</exception>
    public Structure WithVacancyAtOrigin()
    {
        var structure = this;
        if (structure.Count == 0)
        {
            throw new ArgumentException("the structure has no atoms", nameof(structure));
        }

        var config = structure.ToConfiguration();
        var core = Numerics.Domains.nearestSite(config, Vec3.Zero);
        return WithoutAtom(core);
    }

    /// <summary>
    /// Adds independent uniform random displacements in [−<paramref name="amplitude"/>, <paramref name="amplitude"/>] (Å)
    /// to every coordinate, drawn from <c>System.Random(seed)</c> atom by atom in x, y, z order (reproducible).
    /// </summary>
    /// <exception cref="ArgumentException">amplitude is negative or not finite.</exception>
    public Structure Perturbed(int seed, double amplitude)
    {
        var structure = this;
        if (!double.IsFinite(amplitude) || amplitude < 0)
        {
            throw new ArgumentException($"amplitude must be a non-negative number (Å), got {amplitude}", nameof(amplitude));
        }

        var config = Numerics.Domains.perturb(seed, amplitude, structure.ToConfiguration());
        return Carry(structure, Structure.FromConfiguration(config), _ => true);
    }

    private static Structure Carry(Structure from, Structure to, Func<int, bool> keep)
    {
        foreach (var c in from.Columns)
        {
            to.Columns.Add(c.SelectRows(keep));
        }

        foreach (var kv in from.Info)
        {
            to.Info[kv.Key] = kv.Value;
        }

        return to;
    }
}
