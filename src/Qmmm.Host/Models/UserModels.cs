using Qmmm.Numerics;

namespace Qmmm.Host;

/// <summary>
/// A site-energy model written in C# (the paper's V_ℓ, JuLIP's site-potential protocol): the energy of one site as a
/// function of the vectors g_j = y_j − y_ℓ (Å) to its neighbours closer than <see cref="Cutoff"/>, and its gradient
/// ∂V/∂g_j (eV/Å). Energies, forces F = −∂E/∂y, virial W = −Σ g ⊗ ∂V/∂g and partial energies of whole structures are
/// computed by Qmmm (<see cref="Model.FromSiteEnergy"/>), as for the built-in EAM models, and derivative tensors
/// δʲV^h(0) by centred differences of the gradient. Implementations must be thread-safe (sites are evaluated in
/// parallel) and should not allocate per call.
/// </summary>
public interface ISiteEnergyModel
{
    /// <summary>Model name (shown in reports).</summary>
    string Name { get; }

    /// <summary>Cutoff radius (Å): neighbours at distance ≥ Cutoff must not contribute.</summary>
    double Cutoff { get; }

    /// <summary>Element symbols the model knows; species indices refer to this order.</summary>
    IReadOnlyList<string> Elements { get; }

    /// <summary>
    /// Site energy V(g) (eV) of a site of species <paramref name="species"/> with neighbours
    /// <paramref name="neighbours"/> (3 numbers per neighbour, x y z of g_j, Å) of species
    /// <paramref name="neighbourSpecies"/>. When <paramref name="gradient"/> is not empty (3 per neighbour), also
    /// writes ∂V/∂g_j (eV/Å) into it, every entry.
    /// </summary>
    double SiteEnergy(int species, ReadOnlySpan<double> neighbours, ReadOnlySpan<int> neighbourSpecies, Span<double> gradient);
}

/// <summary>
/// What a whole-configuration model written in C# receives: the structure's species, positions, cell and periodicity,
/// and a neighbour list (pairs closer than the model's cutoff, periodic images included) with vectors computed from
/// the current positions.
/// </summary>
public sealed class ModelInput
{
    private readonly Configuration config;
    private readonly NeighbourList list;

    internal ModelInput(Configuration config, NeighbourList list, bool forces, bool siteEnergies)
    {
        this.config = config;
        this.list = list;
        WantsForces = forces;
        WantsSiteEnergies = siteEnergies;
    }

    /// <summary>Number of atoms N.</summary>
    public int Count => config.Count;

    /// <summary>Element symbol of every atom.</summary>
    public IReadOnlyList<string> Species => config.Species;

    /// <summary>Positions, 3 numbers per atom (Å).</summary>
    public ReadOnlySpan<double> Positions => config.Positions;

    /// <summary>Cell vectors a1, a2, a3 as rows, row-major (9 numbers, Å).</summary>
    public ReadOnlySpan<double> Cell => config.Cell.Vectors;

    /// <summary>Periodicity along a1, a2, a3.</summary>
    public IReadOnlyList<bool> Pbc => config.Cell.Pbc;

    /// <summary>True when forces and the virial are asked for.</summary>
    public bool WantsForces { get; }

    /// <summary>True when site energies are asked for.</summary>
    public bool WantsSiteEnergies { get; }

    /// <summary>
    /// The neighbours of atom <paramref name="i"/>: index j and vector y_j + shift − y_i (Å) for every pair (periodic
    /// images included) with distance below <paramref name="cutoff"/> (at most the model's cutoff).
    /// </summary>
    public IEnumerable<(int J, Vector3D R)> Neighbours(int i, double cutoff)
    {
        var c2 = cutoff * cutoff;
        for (var k = list.Start[i]; k < list.Start[i + 1]; k++)
        {
            var v = Numerics.Neighbours.vector(list, config.Positions, i, k);
            var r = new Vector3D(v.X, v.Y, v.Z);
            if (r.Dot(r) < c2)
            {
                yield return (list.Index[k], r);
            }
        }
    }
}

/// <summary>Where a whole-configuration model written in C# writes its results (arrays owned by Qmmm, reused).</summary>
public sealed class ModelOutput
{
    private readonly Workspace workspace;

    internal ModelOutput(Workspace workspace) => this.workspace = workspace;

    /// <summary>Total energy E (eV); set it on every call.</summary>
    public double Energy
    {
        get => workspace.Energy;
        set => workspace.Energy = value;
    }

    /// <summary>Forces −∂E/∂y (3 numbers per atom, eV/Å): write every entry when forces are asked for.</summary>
    public Span<double> Forces => workspace.Forces;

    /// <summary>Virial −∂E/∂ε (9 numbers, row-major, eV): write every entry when forces are asked for.</summary>
    public Span<double> Virial => workspace.Virial;

    /// <summary>Site energies (eV, one per atom, summing to <see cref="Energy"/>): write them when asked for.</summary>
    public Span<double> SiteEnergies => workspace.SiteEnergies;
}

/// <summary>
/// A whole-configuration model written in C# (tight-binding-like models, wrappers of external codes): given the
/// structure and a neighbour list, it computes its own total energy, forces, virial and, if it defines them, site
/// energies. Use it everywhere a built-in model is used through <see cref="Model.FromConfigurationModel"/>.
/// </summary>
public interface IConfigurationModel
{
    /// <summary>Model name (shown in reports).</summary>
    string Name { get; }

    /// <summary>Neighbour-list cutoff the model needs (Å).</summary>
    double Cutoff { get; }

    /// <summary>Element symbols the model knows.</summary>
    IReadOnlyList<string> Elements { get; }

    /// <summary>True when the model defines site energies that sum to the energy (needed for energy mixing).</summary>
    bool HasSiteEnergies { get; }

    /// <summary>
    /// Computes the energy (eV) and, as <paramref name="input"/> asks, forces −∂E/∂y (eV/Å), virial −∂E/∂ε (eV) and
    /// site energies (eV) into <paramref name="output"/>.
    /// </summary>
    void Evaluate(ModelInput input, ModelOutput output);
}

/// <summary>A C# site-energy model behind the numerics core's site-potential protocol.</summary>
internal sealed class SiteEnergyAdapter(ISiteEnergyModel model) : ISitePotential
{
    private readonly string[] elements = [.. model.Elements];

    public string Name => model.Name;

    public double Cutoff => model.Cutoff;

    public string[] Elements => elements;

    public double SiteEnergy(int zi, double[] rs, int[] zs, int offset, int count) =>
        model.SiteEnergy(zi, new ReadOnlySpan<double>(rs, 3 * offset, 3 * count), new ReadOnlySpan<int>(zs, offset, count), []);

    public double SiteGradient(int zi, double[] rs, int[] zs, int offset, int count, double[] grad) =>
        model.SiteEnergy(zi, new ReadOnlySpan<double>(rs, 3 * offset, 3 * count), new ReadOnlySpan<int>(zs, offset, count), new Span<double>(grad, 3 * offset, 3 * count));
}

/// <summary>A C# whole-configuration model behind the numerics core's model protocol.</summary>
internal sealed class ConfigurationModelAdapter(IConfigurationModel model) : IPotential
{
    private readonly string[] elements = [.. model.Elements];

    public string Name => model.Name;

    public string[] Elements => elements;

    public double Cutoff => model.Cutoff;

    public bool HasSiteEnergies => model.HasSiteEnergies;

    public void Evaluate(Configuration config, NeighbourList nl, Request request, Workspace output)
    {
        if (request.Sites.Length > 0)
        {
            // partial energy from the model's site energies: energy of the selection; forces need a site-energy gradient
            if (request.Forces)
            {
                throw new ArgumentException($"model '{Name}' is a whole-configuration C# model: partial forces are not available", nameof(request));
            }

            model.Evaluate(new ModelInput(config, nl, false, true), new ModelOutput(output));
            var e = 0.0;
            for (var i = 0; i < config.Count; i++)
            {
                if (!request.Sites[i])
                {
                    output.SiteEnergies[i] = 0.0;
                }

                e += output.SiteEnergies[i];
            }

            output.Energy = e;
            return;
        }

        model.Evaluate(new ModelInput(config, nl, request.Forces, request.SiteEnergies), new ModelOutput(output));
    }
}
