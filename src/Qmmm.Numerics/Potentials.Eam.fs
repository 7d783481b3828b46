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

/// The EAM site potential: E_i = F_a(ρ̄_i) + ½ Σ_j φ_ab(r_ij), ρ̄_i = Σ_j ρ_ab(r_ij) (a = species of i, b of j), and its
/// gradient ∂E_i/∂g_j = (½ φ'_ab(r_j) + F'_a(ρ̄_i) ρ'_ab(r_j)) g_j / r_j.
[<RequireQualifiedAccess>]
module Eam =

    /// Checks the table sizes of a model (n² pair and density functions, n embedding functions) and its cutoff.
    let validate (m: EamModel) =
        let n = m.Elements.Length

        if n = 0 then
            invalidArg "m" (sprintf "EAM model '%s' has no elements" m.Name)

        Validate.positive "m.Cutoff" m.Cutoff
        Validate.length "m.Pair" (n * n) m.Pair
        Validate.length "m.Density" (n * n) m.Density
        Validate.length "m.Embedding" n m.Embedding

    /// The model as a site potential (the protocol of Potentials.SitePotential.fs). Energies run on the float
    /// instances of the radial functions; gradients on the Dual instances, in two passes over the neighbours: the
    /// first accumulates ρ̄ and stores ρ'(r), φ'(r) and r in the caller's `grad` slots of each neighbour, the second
    /// turns them into the vector gradient (no allocation per call). Neighbours with r >= Cutoff contribute nothing.
    /// A neighbour with ρ'(r) = 0 gets no embedding term even when F'(ρ̄) is infinite (e.g. -a√ρ at ρ̄ = 0), so an
    /// isolated or nearly isolated atom yields finite forces.
    let potential (m: EamModel) : ISitePotential =
        validate m
        let n = m.Elements.Length
        let cutoff = m.Cutoff
        let pairF = m.Pair |> Array.map (fun f -> f.F)
        let pairD = m.Pair |> Array.map (fun f -> f.D)
        let densF = m.Density |> Array.map (fun f -> f.F)
        let densD = m.Density |> Array.map (fun f -> f.D)
        let embF = m.Embedding |> Array.map (fun f -> f.F)
        let embD = m.Embedding |> Array.map (fun f -> f.D)
        let elements = Array.copy m.Elements

        { new ISitePotential with
            member _.Name = m.Name
            member _.Cutoff = cutoff
            member _.Elements = elements

            member _.SiteEnergy(zi, rs, zs, offset, count) =
                let mutable rho = 0.0
                let mutable phi = 0.0
                let row = zi * n

                for k in offset .. offset + count - 1 do
                    let x = rs.[3 * k]
                    let y = rs.[3 * k + 1]
                    let z = rs.[3 * k + 2]
                    let r = Math.Sqrt(x * x + y * y + z * z)

                    if r < cutoff then
                        let ab = row + zs.[k]
                        rho <- rho + densF.[ab] r
                        phi <- phi + pairF.[ab] r

                embF.[zi] rho + 0.5 * phi

            member _.SiteGradient(zi, rs, zs, offset, count, grad) =
                let mutable rho = 0.0
                let mutable phi = 0.0
                let row = zi * n

                for k in offset .. offset + count - 1 do
                    let x = rs.[3 * k]
                    let y = rs.[3 * k + 1]
                    let z = rs.[3 * k + 2]
                    let r = Math.Sqrt(x * x + y * y + z * z)

                    if r < cutoff then
                        let ab = row + zs.[k]
                        let d = densD.[ab] (Dual.Variable r)
                        let p = pairD.[ab] (Dual.Variable r)
                        rho <- rho + d.V
                        phi <- phi + p.V
                        grad.[3 * k] <- d.D
                        grad.[3 * k + 1] <- p.D
                        grad.[3 * k + 2] <- r
                    else
                        grad.[3 * k + 2] <- 0.0

                let f = embD.[zi] (Dual.Variable rho)
                let fp = f.D

                for k in offset .. offset + count - 1 do
                    let r = grad.[3 * k + 2]

                    if r > 0.0 then
                        let dr = grad.[3 * k]
                        let emb = if dr = 0.0 then 0.0 else fp * dr
                        let c = (0.5 * grad.[3 * k + 1] + emb) / r
                        grad.[3 * k] <- c * rs.[3 * k]
                        grad.[3 * k + 1] <- c * rs.[3 * k + 1]
                        grad.[3 * k + 2] <- c * rs.[3 * k + 2]
                    else
                        grad.[3 * k] <- 0.0
                        grad.[3 * k + 1] <- 0.0
                        grad.[3 * k + 2] <- 0.0

                f.V + 0.5 * phi }
