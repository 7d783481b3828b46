namespace Qmmm.Numerics

open System

/// Tunable evaluation settings shared by every model (STYLE 4): start from `EvaluationSettings.Defaults` and update
/// with `{ EvaluationSettings.Defaults with ... }`.
type EvaluationSettings =
    {
        /// Maximum number of threads (>= 1); default `Environment.ProcessorCount`.
        Threads: int
        /// Number of chunks the atoms are split into (>= 1; capped at the number of atoms); default 8. Results depend
        /// on it only through floating-point summation order, never on the thread count.
        Chunks: int
        /// Forces the generic per-site path of a site potential even when it has its own whole-configuration
        /// evaluation (EAM); default false. The generic path is the oracle the specialised ones are tested against.
        Generic: bool
        /// Verlet skin (Å, >= 0) of the neighbour lists a `Calculator` keeps across evaluations: the list is rebuilt
        /// only once some atom has moved more than Skin / 2 since the build (LAMMPS's `neighbor` skin). Default 1 Å;
        /// one-shot evaluations build without skin.
        Skin: float
    }

    /// Default settings: all cores, 8 chunks, specialised evaluation where a model has one, 1 Å skin.
    static member Defaults =
        { Threads = Environment.ProcessorCount
          Chunks = 8
          Generic = false
          Skin = 1.0 }

/// Energy, site energies, forces and virial of one configuration (STYLE 8): fixed shapes, checked by
/// `Results.Create`. Conventions of the model protocol (`IPotential`): forces F = −∂E/∂y (eV/Å); virial
/// W = −∂E/∂ε (eV, = −σV), 3×3 row-major; stress σ = −W/V (eV/Å³).
type Results =
    {
        /// Total energy E (eV) as the model computes it; for a partial evaluation the partial energy E_S = Σ_{ℓ∈S} V_ℓ.
        Energy: float
        /// Site energies V_ℓ (eV), one per atom; 0 outside a partial evaluation's selection; empty when not asked
        /// for or when the model defines none.
        SiteEnergies: float[]
        /// Forces −∂E/∂y (eV/Å), 3 per atom (x y z of atom 0 first); empty when not asked for. For a partial
        /// evaluation the forces of the partial energy on every atom.
        Forces: float[]
        /// Virial W = −∂E/∂ε (eV), 3×3 row-major (9 entries), W[3a+b] = −Σ g_a ∂V/∂g_b for site potentials; empty
        /// when forces were not asked for.
        Virial: float[]
    }

    /// Builds results after checking the shapes: `forces` has 3N entries for N = `siteEnergies.Length`, `virial` 9.
    /// Raises ArgumentException naming the field whose length is wrong.
    static member Create(energy: float, siteEnergies: float[], forces: float[], virial: float[]) =
        Validate.length "forces" (3 * siteEnergies.Length) forces
        Validate.length "virial" 9 virial

        { Energy = energy
          SiteEnergies = siteEnergies
          Forces = forces
          Virial = virial }

/// What one evaluation of the model protocol is asked for.
type Request =
    {
        /// Compute forces −∂E/∂y and the virial −∂E/∂ε as well as the energy.
        Forces: bool
        /// Compute site energies V_ℓ (only for models with `HasSiteEnergies`).
        SiteEnergies: bool
        /// Empty: the whole configuration. Otherwise one flag per atom: the partial energy E_S = Σ_{ℓ∈S} V_ℓ of the
        /// selected sites and its exact gradient (energy mixing (3.8)); only for models with `HasSiteEnergies`.
        Sites: bool[]
        /// Threads, chunks and the generic-path switch.
        Settings: EvaluationSettings
    }

    /// Energy only, whole configuration, default settings.
    static member EnergyOnly =
        { Forces = false
          SiteEnergies = false
          Sites = [||]
          Settings = EvaluationSettings.Defaults }

    /// Energy, forces, virial and (where defined) site energies of the whole configuration, default settings.
    static member All =
        { Forces = true
          SiteEnergies = true
          Sites = [||]
          Settings = EvaluationSettings.Defaults }

/// Caller-owned outputs and model scratch, reused across evaluations of configurations of one size so that a
/// relaxation's repeated force calls allocate nothing per call (STYLE 11). A model writes every output it was asked
/// for in full; the others are left as they are. Not thread-safe: one workspace per concurrent evaluation.
[<Sealed>]
type Workspace() =
    let mutable site: float[] = [||]
    let mutable forces: float[] = [||]
    let virial: float[] = Array.zeroCreate 9

    /// Total (or partial) energy of the last evaluation (eV).
    member val Energy = 0.0 with get, set
    /// Site energies (N entries, eV) once `Prepare` was called.
    member _.SiteEnergies = site
    /// Forces −∂E/∂y (3N entries, eV/Å) once `Prepare` was called.
    member _.Forces = forces
    /// Virial −∂E/∂ε (9 entries, eV, row-major).
    member _.Virial = virial
    /// Model-owned state kept between evaluations (e.g. scratch buffers, factorisations); null at first. A model
    /// stores here only what it can recognise again (check the type and size before reuse).
    member val Scratch: obj | null = null with get, set

    /// Sizes the outputs for `atoms` atoms (reallocating only when the size changes).
    member _.Prepare(atoms: int) =
        if site.Length <> atoms then
            site <- Array.zeroCreate atoms
            forces <- Array.zeroCreate (3 * atoms)

    /// A snapshot of the outputs asked for by `request` as immutable `Results` (copies the arrays).
    member ws.ToResults(request: Request) =
        { Energy = ws.Energy
          SiteEnergies = if request.SiteEnergies then Array.copy site else [||]
          Forces = if request.Forces then Array.copy forces else [||]
          Virial = if request.Forces then Array.copy virial else [||] }

/// The whole-configuration model protocol (ASE's calculator, JuLIP's `AbstractCalculator`): every model — site
/// potentials through a generic adapter (`Potential.ofSite`), EAM through its fast path, tight binding through an
/// eigen-solve, models written in C# — is one. Given a configuration and a neighbour list that is current for it
/// (`Neighbours.isCurrent`; cutoff ≥ `Cutoff`), it writes into the caller's workspace its total energy (eV, computed
/// as the model defines it, not necessarily as a sum of site energies), and on request its forces −∂E/∂y (eV/Å), its
/// virial −∂E/∂ε (eV, 3×3 row-major) and its site energies V_ℓ (eV). Callers normally go through `Potential.evaluate`
/// or a `Calculator`, which check the arguments and the result (finite numbers) around this call.
type IPotential =
    /// Human-readable model name (e.g. "eam-w-marinica").
    abstract Name: string
    /// Element symbols the model knows, in species-index order.
    abstract Elements: string[]
    /// Neighbour-list cutoff the model needs (Å): pairs at distance >= Cutoff never interact directly.
    abstract Cutoff: float
    /// True when the model defines site energies V_ℓ with Σ_ℓ V_ℓ = E (site potentials; tight binding's split),
    /// and so partial energies of a subset of sites.
    abstract HasSiteEnergies: bool
    /// Evaluates the model: writes `output.Energy` and, as `request` asks, `output.Forces`, `output.Virial`,
    /// `output.SiteEnergies` (the caller has called `output.Prepare(config.Count)`).
    abstract Evaluate: config: Configuration * nl: NeighbourList * request: Request * output: Workspace -> unit

/// Optional for an `IPotential` whose evaluation is pair-symmetric (EAM's fast path): it can work from a half
/// neighbour list (each unordered pair once), which halves the list's memory and build time. Lists handed to a model
/// that does not implement this (or answers false for the request) are always full.
type IHalfListPotential =
    /// True when `Evaluate` accepts a half list for `request`.
    abstract AcceptsHalfList: request: Request -> bool
