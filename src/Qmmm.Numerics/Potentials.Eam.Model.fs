namespace Qmmm.Numerics

open System

/// A radial function of one scalar argument, written once as inline generic code and instantiated at the three
/// scalar types the library evaluates models with: float (energies), Dual (forces), Jet (derivatives to order 4).
type Radial =
    {
        /// Value on floats.
        F: float -> float
        /// Value and first derivative.
        D: Dual -> Dual
        /// Taylor jet to order 4.
        J: Jet -> Jet
    }

/// An embedded-atom model (Daw–Baskes form): the site energy of atom i of species a is
/// E_i = F_a(Σ_j ρ_ab(r_ij)) + ½ Σ_j φ_ab(r_ij), a pooled site potential V(g) = G(Σ_j ψ(g_j)) with ψ = (φ, ρ) and
/// G(s, t) = ½ s + F(t) (DESIGN §2). Multi-species tables are indexed a * n + b with n = Elements.Length.
type EamModel =
    {
        /// Model name (e.g. "eam-w-marinica").
        Name: string
        /// Element symbols in species-index order.
        Elements: string[]
        /// Cutoff radius (Å); every radial function vanishes for r >= Cutoff.
        Cutoff: float
        /// Pair functions φ_ab (eV), symmetric in (a, b), index a * n + b.
        Pair: Radial[]
        /// Density contributed to a host of species a by a neighbour of species b, ρ_ab, index a * n + b
        /// (eam/alloy: independent of a; eam/fs: depends on both).
        Density: Radial[]
        /// Embedding functions F_a (eV) of the host density, index a.
        Embedding: Radial[]
    }

/// Internal: how the value of a cubic table maps to the radial function (see `ICubicTable`).
type internal CubicRole =
    /// f(r) = cubic(r) (densities).
    | Plain = 0
    /// f(r) = cubic(r) / r (setfl pair tables, which hold r·φ).
    | OverR = 1

/// Internal: a `Radial.F` function that is LAMMPS's per-interval cubic of a table on the uniform grid r_m = (m-1)/Inverse,
/// m = 1 .. Nodes (Potentials.Eam.Setfl.fs builds its closures as such objects). The fast EAM evaluation recognises
/// pair and density functions of this kind sharing one grid and evaluates ρ_ab, ρ_ba and φ_ab of a pair from one
/// interval look-up. Coefficients per node (7, LAMMPS's layout): 0..2 the slope (per unit r) as a quadratic in the
/// local coordinate p ∈ [0, 1], 3..6 the value as a cubic in p; interval m = min(⌊r·Inverse + 1⌋, Nodes-1),
/// p = min(r·Inverse + 1 - m, 1).
type internal ICubicTable =
    /// Number of grid nodes.
    abstract Nodes: int
    /// 1 / grid spacing (1/Å).
    abstract Inverse: float
    /// 7 coefficients per node.
    abstract Coefficients: float[]
    /// How the cubic's value maps to the function's value.
    abstract Role: CubicRole
