namespace Qmmm.Numerics

open System
open System.Threading

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

    /// The EAM site potential object: the generic protocol (`SiteEnergy`, `SiteGradient`) and the fast
    /// whole-configuration evaluation of `EamFast` that `Evaluate` uses unless `Settings.Generic` is set. Holds one
    /// set of scratch buffers for reuse by the next evaluation of the same size (taken and returned atomically, so
    /// concurrent evaluations are safe: a second concurrent one allocates its own).
    [<Sealed>]
    type private EamPotential(m: EamModel, kernel: EamFast.Kernel) =
        let n = m.Elements.Length
        let cutoff = m.Cutoff
        let pairF = m.Pair |> Array.map (fun f -> f.F)
        let pairD = m.Pair |> Array.map (fun f -> f.D)
        let densF = m.Density |> Array.map (fun f -> f.F)
        let densD = m.Density |> Array.map (fun f -> f.D)
        let embF = m.Embedding |> Array.map (fun f -> f.F)
        let embD = m.Embedding |> Array.map (fun f -> f.D)
        let elements = Array.copy m.Elements

        [<VolatileField>]
        let mutable cache: EamFast.Scratch = null

        /// Scratch for n atoms and the given chunk count: the cached set when it fits, else a new one.
        member private _.Take(atoms: int, chunks: int) =
            let s = Interlocked.Exchange(&cache, null)

            if not (isNull s) && s.N = atoms && s.Chunks = chunks then
                s
            else
                EamFast.Scratch(atoms, chunks)

        /// Returns scratch for the next evaluation.
        member private _.Give(s: EamFast.Scratch) = cache <- s

        interface Evaluate.IFastEvaluation with
            member this.Evaluate(settings, z, x, nl, mask, site, forces, virial) =
                let atoms = z.Length
                let chunks = max 1 (min settings.Chunks atoms)
                let scratch = this.Take(atoms, chunks)
                let buffers = scratch.Buffers
                let fp = scratch.Fp
                let withForces = forces.Length > 0
                let all = mask.Length = 0
                let half = if all then [||] else scratch.Half

                // pass 1: host densities (and, for energies only, half pair energies) per chunk
                Evaluate.forChunks settings atoms (fun c lo hi ->
                    let buf = buffers.[c]

                    if withForces then
                        Array.Clear(buf, 0, atoms)
                        kernel.Densities(nl, x, z, lo, hi, buf)
                    else
                        Array.Clear(buf, 0, 2 * atoms)
                        kernel.Energies(nl, x, z, lo, hi, buf))
                |> ignore

                // per atom: ρ̄ reduced in chunk order, F(ρ̄) and F'(ρ̄)
                Evaluate.forChunks settings atoms (fun _ lo hi ->
                    for i in lo .. hi - 1 do
                        if withForces then
                            let mutable rho = 0.0

                            for c in 0 .. chunks - 1 do
                                rho <- rho + buffers.[c].[i]

                            if all || mask.[i] then
                                let f = embD.[z.[i]] (Dual.Variable rho)
                                site.[i] <- f.V
                                fp.[i] <- f.D

                                if not all then
                                    half.[i] <- 0.5
                            else
                                // outside a partial selection: no energy, no embedding force, no pair share
                                site.[i] <- 0.0
                                fp.[i] <- 0.0
                                half.[i] <- 0.0
                        else
                            let mutable rho = 0.0
                            let mutable phi = 0.0

                            for c in 0 .. chunks - 1 do
                                let b = buffers.[c]
                                rho <- rho + b.[2 * i]
                                phi <- phi + b.[2 * i + 1]

                            site.[i] <- embF.[z.[i]] rho + phi)
                |> ignore

                if withForces then
                    let virials = scratch.Virials

                    // pass 2: forces, half pair energies and the virial per chunk
                    Evaluate.forChunks settings atoms (fun c lo hi ->
                        let buf = buffers.[c]
                        Array.Clear(buf, 0, 4 * atoms)
                        kernel.Forces(nl, x, z, lo, hi, fp, half, buf, virials, 9 * c))
                    |> ignore

                    // reduction in chunk order; F = -∂E/∂y
                    Evaluate.forChunks settings atoms (fun _ lo hi ->
                        for i in lo .. hi - 1 do
                            let mutable gx = 0.0
                            let mutable gy = 0.0
                            let mutable gz = 0.0
                            let mutable e = 0.0

                            for c in 0 .. chunks - 1 do
                                let b = buffers.[c]
                                gx <- gx + b.[4 * i]
                                gy <- gy + b.[4 * i + 1]
                                gz <- gz + b.[4 * i + 2]
                                e <- e + b.[4 * i + 3]

                            forces.[3 * i] <- -gx
                            forces.[3 * i + 1] <- -gy
                            forces.[3 * i + 2] <- -gz
                            site.[i] <- site.[i] + e)
                    |> ignore

                    for a in 0..8 do
                        let mutable s = 0.0

                        for c in 0 .. chunks - 1 do
                            s <- s + virials.[9 * c + a]

                        virial.[a] <- s

                this.Give scratch

        interface ISitePotential with
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

                f.V + 0.5 * phi

    /// The model as a site potential (the protocol of Potentials.SitePotential.fs). Energies run on the float
    /// instances of the radial functions; gradients on the Dual instances, in two passes over the neighbours: the
    /// first accumulates ρ̄ and stores ρ'(r), φ'(r) and r in the caller's `grad` slots of each neighbour, the second
    /// turns them into the vector gradient (no allocation per call). Neighbours with r >= Cutoff contribute nothing.
    /// A neighbour with ρ'(r) = 0 gets no embedding term even when F'(ρ̄) is infinite (e.g. -a√ρ at ρ̄ = 0), so an
    /// isolated or nearly isolated atom yields finite forces.
    ///
    /// `Evaluate.all`, `siteEnergies`, `energy`, `partial` (and their `With` forms) evaluate this potential with the
    /// fast EAM algorithm (each pair once, as LAMMPS: densities in a first pass, forces and virial in a second; setfl
    /// tables through one interval look-up per pair for ρ and φ together), unless `Settings.Generic` is set; both
    /// paths agree up to rounding. The object keeps the scratch buffers of its last evaluation (about 4·Chunks·N
    /// floats) for the next one of the same size.
    let potential (m: EamModel) : ISitePotential =
        validate m

        let kernel: EamFast.Kernel =
            match EamTables.setflTables m with
            | Some t -> EamTables.SetflKernel(m, t)
            | None -> EamFast.RadialKernel(m)

        EamPotential(m, kernel) :> ISitePotential
