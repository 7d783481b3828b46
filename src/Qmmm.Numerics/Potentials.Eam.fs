namespace Qmmm.Numerics

/// A radial function of one scalar argument, written once as inline generic code and instantiated at the three
/// scalar types the library evaluates models with: float (energies), Dual (forces), Jet (derivatives to order 4).
type Radial =
    { /// Value on floats.
      F: float -> float
      /// Value and first derivative.
      D: Dual -> Dual
      /// Taylor jet to order 4.
      J: Jet -> Jet }

/// An embedded-atom model (Daw–Baskes form): the site energy of atom i of species a is
/// E_i = F_a(Σ_j ρ_ab(r_ij)) + ½ Σ_j φ_ab(r_ij), a pooled site potential V(g) = G(Σ_j ψ(g_j)) with ψ = (φ, ρ) and
/// G(s, t) = ½ s + F(t) (DESIGN §2). Multi-species tables are indexed a * n + b with n = Elements.Length.
type EamModel =
    { /// Model name (e.g. "eam-w-marinica").
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
      Embedding: Radial[] }
