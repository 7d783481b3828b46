using Microsoft.FSharp.Core;
using System.Globalization;
using Qmmm.Numerics;

namespace Qmmm.Host;

/// <summary>
/// An interatomic model as C# callers use it: evaluates structures (energy, site energies, forces, virial, stress)
/// and gives the derivative tensors δʲV^h(0) of its site energy at a lattice (3.1). Wraps any implementation of the
/// numerics core's model protocol (<c>IPotential</c>): the built-in models of the <see cref="Models"/> registry, and
/// models written in C# (<see cref="FromSiteEnergy"/>, <see cref="FromConfigurationModel"/>). Thread-safe: evaluations
/// do not share mutable state.
/// </summary>
public sealed class Model
{
    private readonly Func<int, IPooledPotential>? pooled;

    internal Model(string spec, IPotential potential, ISitePotential? site = null, Func<int, IPooledPotential>? pooled = null)
    {
        Spec = spec;
        Potential = potential;
        Site = site ?? Numerics.Potential.trySite(potential)?.Value;
        this.pooled = pooled;
    }

    /// <summary>An EAM model (fast whole-configuration path; exact derivative tensors through the pooled form).</summary>
    internal static Model OfEam(string spec, EamModel eam)
    {
        var site = Numerics.Eam.potential(eam);
        return new Model(spec, Numerics.Potential.ofSite(site), site, species => Pooled.ofEam(eam, species));
    }

    /// <summary>
    /// The K-th order Taylor expansion T_K V^h of <paramref name="reference"/> at the homogeneous lattice
    /// <paramref name="lattice"/> (K = <paramref name="order"/>, 1..4; K = 2 is the harmonic model): an MM model that
    /// matches the reference's derivatives δʲV^h(0) exactly for j ≤ K (exact tensors through the pooled form when the
    /// reference has one, else centred differences). Valid near the lattice; invariant under the lattice's point group
    /// and translations only (not under arbitrary rotations), see <see cref="IsRotationInvariant"/>.
    /// </summary>
    /// <exception cref="ArgumentException">order outside 1..4, or the lattice's element unknown to the reference, or a reference without a site-energy gradient.</exception>
    public static Model TaylorExpansion(Model reference, LatticeSpec lattice, int order, string? spec = null)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(lattice);
        if (order is < 1 or > 4)
        {
            throw new ArgumentOutOfRangeException(nameof(order), order, "Taylor order must lie in 1..4");
        }

        var site = reference.Site
            ?? throw new ArgumentException($"model '{reference.Name}' has no site-energy gradient: a Taylor expansion needs a site-energy model", nameof(reference));
        var species = Array.IndexOf(reference.Potential.Elements, lattice.Element);
        if (species < 0)
        {
            throw new ArgumentException($"model '{reference.Name}' has no element '{lattice.Element}' (it knows {string.Join(", ", reference.Potential.Elements)})", nameof(lattice));
        }

        var name = spec ?? $"taylor:{order}:{reference.Spec}";
        var pooledRef = reference.pooled is { } f ? FSharpOption<IPooledPotential>.Some(f(species)) : FSharpOption<IPooledPotential>.None;
        var taylor = Boundary.Run(() => TaylorModelModule.ofReference(name, site, pooledRef, lattice.Lattice, order));
        var tsite = TaylorModelModule.potential(taylor);
        return new Model(name, Numerics.Potential.ofSite(tsite), tsite) { IsRotationInvariant = false };
    }

    /// <summary>
    /// True when the energy is invariant under every rotation of the whole configuration (every physical model);
    /// false for models tied to a lattice's axes, such as <see cref="TaylorExpansion"/> (invariant under the
    /// lattice's point group only).
    /// </summary>
    public bool IsRotationInvariant { get; private init; } = true;

    /// <summary>The model in the numerics core's whole-configuration protocol (for F# callers and the solvers).</summary>
    public IPotential Potential { get; }

    /// <summary>The site-potential form when the model has one (site energies from neighbour vectors).</summary>
    internal ISitePotential? Site { get; }

    /// <summary>The specification the model was created from (e.g. <c>eam-w-marinica</c>, <c>setfl:W_zhou.eam.alloy</c>).</summary>
    public string Spec { get; }

    /// <summary>The model's name.</summary>
    public string Name => Potential.Name;

    /// <summary>Interaction cutoff (Å) of the neighbour lists the model needs.</summary>
    public double Cutoff => Potential.Cutoff;

    /// <summary>The element symbols the model knows.</summary>
    public string[] Elements => (string[])Potential.Elements.Clone();

    /// <summary>True when the model defines site energies (and so partial energies for energy mixing).</summary>
    public bool HasSiteEnergies => Potential.HasSiteEnergies;

    /// <summary>True when <see cref="DerivativeTensors"/> is exact (jets through a pooled form); false when it uses differences.</summary>
    public bool HasExactDerivatives => pooled is not null || Site is AcePotential;

    /// <summary>
    /// A model from a site energy written in C# (<see cref="ISiteEnergyModel"/>): usable everywhere a built-in model
    /// is (evaluation, derivative tensors by centred differences of its gradient, relaxation).
    /// </summary>
    public static Model FromSiteEnergy(ISiteEnergyModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckUserModel(model.Name, model.Cutoff, model.Elements);
        var site = new SiteEnergyAdapter(model);
        return new Model("csharp:" + model.Name, Numerics.Potential.ofSite(site), site);
    }

    /// <summary>
    /// A model from a whole-configuration evaluator written in C# (<see cref="IConfigurationModel"/>): usable for
    /// evaluation and relaxation; derivative tensors are not available (it has no site-energy gradient).
    /// </summary>
    public static Model FromConfigurationModel(IConfigurationModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckUserModel(model.Name, model.Cutoff, model.Elements);
        return new Model("csharp:" + model.Name, new ConfigurationModelAdapter(model));
    }

    private static void CheckUserModel(string name, double cutoff, IReadOnlyList<string> elements)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("a model needs a non-empty name", nameof(name));
        }

        if (!double.IsFinite(cutoff) || cutoff <= 0)
        {
            throw new ArgumentException($"model '{name}': the cutoff must be a positive number of Å, got {cutoff.ToString(CultureInfo.InvariantCulture)}", nameof(cutoff));
        }

        if (elements is null || elements.Count == 0)
        {
            throw new ArgumentException($"model '{name}' must know at least one element", nameof(elements));
        }
    }

    /// <summary>
    /// Energy E (eV), site energies E_ℓ (eV; empty when the model defines none), forces (N×3, eV/Å), virial
    /// W = −∂E/∂ε (3×3, eV) and, for a fully periodic cell, the stress σ = −W/V (3×3, eV/Å³) of
    /// <paramref name="structure"/>. The structure is validated first as by <see cref="Structure.Validate"/> (finite
    /// coordinates, no two atoms or periodic images closer than 0.5 Å) and its elements must be known to the model.
    /// </summary>
    /// <param name="structure">The structure to evaluate.</param>
    /// <param name="threads">Maximum number of threads (default: all cores); results do not depend on it.</param>
    /// <exception cref="QmmmInputException">The structure is invalid for this model (message names file, line and field when the structure came from a file).</exception>
    /// <exception cref="QmmmComputationException">The model produced a non-finite number (message names the model and atom).</exception>
    public Evaluation Evaluate(Structure structure, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(structure);
        if (threads is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be at least 1");
        }

        structure.CheckFinite();
        for (var i = 0; i < structure.Count; i++)
        {
            if (Array.IndexOf(Potential.Elements, structure.Species[i]) < 0)
            {
                throw new QmmmInputException(structure.Locate(i, "species", $"atom {i} is '{structure.Species[i]}', but model '{Name}' knows only {string.Join(", ", Potential.Elements)}"));
            }
        }

        structure.Validate();
        return Boundary.Run(() => EvaluateValid(structure, threads));
    }

    private Evaluation EvaluateValid(Structure structure, int? threads)
    {
        // a skewed cell is replaced by LLL-reduced vectors of the same lattice: few images, same results
        var config = CellReduction.reduceConfiguration(Structure.MaxOrthogonalityDefect, structure.ToConfiguration());
        var settings = EvaluationSettings.Defaults;
        if (threads is int t)
        {
            settings = new EvaluationSettings(t, settings.Chunks, settings.Generic, settings.Skin);
        }

        var request = new Request(true, Potential.HasSiteEnergies, [], settings);
        NeighbourList nl;
        try
        {
            var options = new NeighbourOptions(0.0, Numerics.Potential.acceptsHalfList(Potential, request), settings.Threads);
            nl = Neighbours.buildListLimited((int)Math.Min(int.MaxValue, Limits.Current.MaxNeighbours), options, Potential.Cutoff, config);
        }
        catch (ArgumentException e)
        {
            // a cell too thin for the model's cutoff (too many periodic images), or too many neighbours: the cell is the place
            throw Boundary.Located(structure.Locate(-1, structure.HasCell ? "Lattice" : "pos", $"model '{Name}' (cutoff {Cutoff.ToString("G6", CultureInfo.InvariantCulture)} Å): {Structure.CleanMessage(e)}"), e);
        }

        var r = Numerics.Potential.evaluate(Potential, config, nl, request);
        var stress = structure.IsFullyPeriodic ? Numerics.Evaluate.stress(config, r) : null;
        return Evaluation.Create(Name, r.Energy, r.SiteEnergies, r.Forces, r.Virial, stress);
    }

    /// <summary>
    /// The derivative tensor δʲV^h(0), j = <paramref name="order"/> (1..4), of the site energy of the lattice's
    /// element at the homogeneous lattice <paramref name="lattice"/> (3.1): every sorted tuple of neighbours ρ with
    /// |ρ| ≤ <paramref name="radius"/> (Å) and all 3^j Cartesian components. Exact (jets through the pooled form
    /// V(g) = G(Σ_j ψ(g_j)), or the basis-aware engine for linear ACE; no finite differences) when <see cref="HasExactDerivatives"/>; otherwise by centred
    /// differences of the analytic site-energy gradient, symmetrised over index permutations and Richardson-extrapolated,
    /// with the error estimate in <see cref="DerivativeTensor.ErrorEstimate"/>.
    /// </summary>
    /// <exception cref="ArgumentException">order outside 1..4, radius not positive, the lattice's element unknown to the model, or a model without a site-energy gradient.</exception>
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

        var species = Array.IndexOf(Potential.Elements, lattice.Element);
        if (species < 0)
        {
            throw new ArgumentException($"model '{Name}' has no element '{lattice.Element}' (it knows {string.Join(", ", Potential.Elements)})", nameof(lattice));
        }

        var d = lattice.NearestNeighbourDistance;
        var bound = lattice.SitesBound(4.0 / 3.0 * Math.PI * Math.Pow(Cutoff + d, 3));
        var maxStencil = Limits.Current.MaxStencil;
        if (bound > maxStencil)
        {
            throw new ArgumentException(Limits.Exceeded($"the stencil within the cutoff {Cutoff.ToString("G6", CultureInfo.InvariantCulture)} Å (a bound for {lattice})", bound, maxStencil, "QMMM_MAX_STENCIL"), nameof(lattice));
        }

        var stencil = LatticeModule.stencil(lattice.Lattice, Cutoff);
        if (pooled is not null)
        {
            var tensor = Boundary.Run(() => Derivatives.siteTensors(pooled(species), stencil, order, radius));
            return new DerivativeTensor(tensor, Name, null);
        }

        if (Site is AcePotential ace)
        {
            // linear ACE: the basis-aware exact engine with the coefficients folded into the coupling
            return new DerivativeTensor(AceDerivatives.modelTensor(ace, stencil, order, radius), Name, null);
        }

        if (Site is null)
        {
            throw new ArgumentException($"model '{Name}' has no site-energy gradient: derivative tensors need a site-energy model", nameof(lattice));
        }

        var site = Site;
        var result = Boundary.Run(() => DifferenceDerivatives.siteTensors(DifferenceDerivatives.Options.Defaults, site, species, stencil, order, radius));
        return new DerivativeTensor(result.Tensor, Name, result.ErrorEstimate);
    }

    /// <summary>The model's name and cutoff, e.g. <c>eam-w-marinica (cutoff 5.4604375 Å)</c>.</summary>
    public override string ToString() => $"{Name} (cutoff {Cutoff.ToString("R", CultureInfo.InvariantCulture)} Å)";
}
