namespace Qmmm.Numerics

open System
open System.Collections.Generic
open System.Threading.Tasks

/// Evaluation of any site potential on a configuration (STYLE 5, 6): site energies, energy, forces, virial, stress and
/// partial (subset) energies with their exact gradient. Written once for every `ISitePotential`.
///
/// Parallelism: the atoms are split into a fixed number of contiguous chunks (`Settings.Chunks`, independent of the
/// thread count); chunks run on up to `Settings.Threads` threads (`Parallel.For`), each with its own scratch arrays
/// (sized by the largest neighbour count) and its own force and virial buffers; the buffers are reduced in chunk order.
/// Results are therefore bit-identical run to run and for any thread count. No allocation per atom or neighbour.
///
/// A model may also carry its own whole-configuration evaluation with the same guarantees (the internal
/// `IFastEvaluation`; `Eam.potential` does: each pair once, as LAMMPS); `all`, `allWith`, `siteEnergies`, `energy` and
/// their `With` forms and `partial` use it unless `Settings.Generic` is set, and the generic path above is the oracle it
/// is tested against.
[<RequireQualifiedAccess>]
module Evaluate =

    /// Tunable evaluation settings (STYLE 4); see `EvaluationSettings`.
    type Settings = EvaluationSettings

    /// Default settings: all cores, 8 chunks, specialised evaluation where a model has one.
    let defaults = EvaluationSettings.Defaults

    /// Internal protocol of a site potential that evaluates a whole configuration itself, faster than the generic
    /// per-site path (EAM: two passes over each pair once). Implementations honour `Settings.Threads` and
    /// `Settings.Chunks` with the same guarantees as the generic path (fixed chunks, per-chunk buffers, reduction in
    /// chunk order: bit-identical for any thread count). The arguments are already checked by `Evaluate`.
    type internal IFastEvaluation =
        /// Writes the site energies V_ℓ (eV) into `site` (N entries) and, when `forces` is not empty, the forces
        /// -∂E/∂y (eV/Å) into `forces` (3N) and the virial -∂E/∂ε (eV) into `virial` (9). `species` holds the
        /// species index of every atom, `positions` the configuration's (3 per atom, Å); `nl` is a full or half list
        /// current for them with cutoff >= the model's. When `mask` is not empty
        /// (N entries; only with forces), the energy is the partial energy of the sites with mask[ℓ] = true: site
        /// energies are 0 outside the selection, forces and virial are those of the partial energy.
        abstract Evaluate:
            settings: Settings *
            species: int[] *
            positions: float[] *
            nl: NeighbourList *
            mask: bool[] *
            site: float[] *
            forces: float[] *
            virial: float[] ->
                unit

    /// Species index of every atom (looked up once per distinct symbol); raises naming the unknown element.
    let private speciesOf (pot: ISitePotential) (config: Configuration) =
        let known = Dictionary<string, int>()

        config.Species
        |> Array.map (fun s ->
            match known.TryGetValue s with
            | true, z -> z
            | _ ->
                let z = SitePotential.speciesIndex pot s
                known.[s] <- z
                z)

    /// Checks the arguments shared by every entry point and returns the species indices.
    let private check (settings: Settings) (pot: ISitePotential) (config: Configuration) (nl: NeighbourList) =
        Validate.intInRange "settings.Threads" 1 Int32.MaxValue settings.Threads
        Validate.intInRange "settings.Chunks" 1 Int32.MaxValue settings.Chunks
        Validate.length "config.Positions" (3 * config.Count) config.Positions

        if nl.Count <> config.Count then
            invalidArg "nl" (sprintf "the neighbour list has %d atoms, the configuration %d" nl.Count config.Count)

        Neighbours.ensureCurrent nl config

        if nl.Cutoff < pot.Cutoff then
            invalidArg
                "nl"
                (sprintf
                    "the neighbour-list cutoff %g Å is below the cutoff %g Å of model '%s'"
                    nl.Cutoff
                    pot.Cutoff
                    pot.Name)

        speciesOf pot config

    /// Largest number of entries of one atom in the list.
    let private maxNeighbours (nl: NeighbourList) =
        let mutable m = 0

        for i in 0 .. nl.Count - 1 do
            m <- max m (nl.Start.[i + 1] - nl.Start.[i])

        m

    /// Runs body(chunk, lo, hi) over the fixed chunks of 0 .. n-1, in parallel when allowed; returns the chunk count.
    let internal forChunks (settings: Settings) (n: int) (body: int -> int -> int -> unit) =
        let chunks = max 1 (min settings.Chunks n)

        let run (c: int) =
            let lo = int (int64 c * int64 n / int64 chunks)
            let hi = int (int64 (c + 1) * int64 n / int64 chunks)
            body c lo hi

        if settings.Threads = 1 || chunks = 1 then
            for c in 0 .. chunks - 1 do
                run c
        else
            Parallel.For(0, chunks, ParallelOptions(MaxDegreeOfParallelism = settings.Threads), Action<int> run)
            |> ignore

        chunks

    /// Copies the neighbours of atom i closer than `cutoff` into the scratch arrays (vectors, species, and, when `idx`
    /// is not empty, the neighbour atom indices); returns their number.
    let private gather
        (nl: NeighbourList)
        (x: float[])
        (z: int[])
        (cutoff: float)
        (i: int)
        (rs: float[])
        (zs: int[])
        (idx: int[])
        =
        let mutable c = 0
        let withIndex = idx.Length > 0
        let c2 = cutoff * cutoff

        for k in nl.Start.[i] .. nl.Start.[i + 1] - 1 do
            let v = Neighbours.vector nl x i k

            if Vec3.dot v v < c2 then
                let j = nl.Index.[k]
                rs.[3 * c] <- v.X
                rs.[3 * c + 1] <- v.Y
                rs.[3 * c + 2] <- v.Z
                zs.[c] <- z.[j]

                if withIndex then
                    idx.[c] <- j

                c <- c + 1

        c

    /// The generic float path of `siteEnergiesWith`: site energies of every atom into `e`.
    let private siteEnergiesGeneric
        (settings: Settings)
        (pot: ISitePotential)
        (z: int[])
        (x: float[])
        (nl: NeighbourList)
        (e: float[])
        =
        // whole neighbourhoods: a half list is seen from both atoms first
        let nl = Neighbours.toFull nl
        let m = maxNeighbours nl
        let cutoff = pot.Cutoff

        forChunks settings e.Length (fun _ lo hi ->
            let rs = Array.zeroCreate (3 * m)
            let zs = Array.zeroCreate m

            for i in lo .. hi - 1 do
                let c = gather nl x z cutoff i rs zs [||]
                e.[i] <- pot.SiteEnergy(z.[i], rs, zs, 0, c))
        |> ignore

    /// Site energies V_ℓ (eV) of every atom (float path, no derivatives), with explicit settings.
    /// `nl` must be a neighbour list current for `config` (a half list is expanded for the generic path) with cutoff >= the model's cutoff. Models with their own
    /// whole-configuration evaluation (EAM) use it unless `settings.Generic` is set.
    let siteEnergiesWith (settings: Settings) (pot: ISitePotential) (config: Configuration) (nl: NeighbourList) =
        let z = check settings pot config nl
        let e = Array.zeroCreate config.Count

        match pot with
        | :? IFastEvaluation as fast when not settings.Generic ->
            fast.Evaluate(settings, z, config.Positions, nl, [||], e, [||], [||])
        | _ -> siteEnergiesGeneric settings pot z config.Positions nl e

        e

    /// Site energies V_ℓ (eV) of every atom, default settings (see `siteEnergiesWith`).
    let siteEnergies (pot: ISitePotential) (config: Configuration) (nl: NeighbourList) =
        siteEnergiesWith defaults pot config nl

    /// Sum of site energies in atom order (deterministic).
    let private total (e: float[]) =
        let mutable s = 0.0

        for i in 0 .. e.Length - 1 do
            s <- s + e.[i]

        s

    /// Total energy E = Σ_ℓ V_ℓ (eV), with explicit settings.
    let energyWith (settings: Settings) (pot: ISitePotential) (config: Configuration) (nl: NeighbourList) =
        total (siteEnergiesWith settings pot config nl)

    /// Total energy E = Σ_ℓ V_ℓ (eV), default settings.
    let energy (pot: ISitePotential) (config: Configuration) (nl: NeighbourList) = energyWith defaults pot config nl

    /// The generic path of `gradientCore`: gather, `SiteGradient`, scatter into per-chunk buffers.
    let private gradientGeneric
        (settings: Settings)
        (pot: ISitePotential)
        (z: int[])
        (x: float[])
        (nl: NeighbourList)
        (mask: bool[])
        =
        // whole neighbourhoods: a half list is seen from both atoms first
        let nl = Neighbours.toFull nl
        let n = z.Length
        let all = mask.Length = 0
        let site = Array.zeroCreate n
        let m = maxNeighbours nl
        let cutoff = pot.Cutoff
        let chunks = max 1 (min settings.Chunks n)
        // dE/dy per chunk (3N each) and the virial per chunk (9 each)
        let buffers = Array.init chunks (fun _ -> Array.zeroCreate (3 * n))
        let virials = Array.zeroCreate (9 * chunks)

        forChunks settings n (fun ch lo hi ->
            let rs = Array.zeroCreate (3 * m)
            let zs = Array.zeroCreate m
            let idx = Array.zeroCreate (max 1 m)
            let grad = Array.zeroCreate (3 * m)
            let buf = buffers.[ch]
            let mutable wxx = 0.0
            let mutable wxy = 0.0
            let mutable wxz = 0.0
            let mutable wyx = 0.0
            let mutable wyy = 0.0
            let mutable wyz = 0.0
            let mutable wzx = 0.0
            let mutable wzy = 0.0
            let mutable wzz = 0.0

            for i in lo .. hi - 1 do
                if all || mask.[i] then
                    let c = gather nl x z cutoff i rs zs idx
                    site.[i] <- pot.SiteGradient(z.[i], rs, zs, 0, c, grad)
                    let mutable sx = 0.0
                    let mutable sy = 0.0
                    let mutable sz = 0.0

                    for q in 0 .. c - 1 do
                        let gx = grad.[3 * q]
                        let gy = grad.[3 * q + 1]
                        let gz = grad.[3 * q + 2]
                        let j = idx.[q]
                        // g_q = y_j + shift - y_i: dV/dy_j = +dV/dg_q, dV/dy_i = -dV/dg_q
                        buf.[3 * j] <- buf.[3 * j] + gx
                        buf.[3 * j + 1] <- buf.[3 * j + 1] + gy
                        buf.[3 * j + 2] <- buf.[3 * j + 2] + gz
                        sx <- sx + gx
                        sy <- sy + gy
                        sz <- sz + gz
                        let rx = rs.[3 * q]
                        let ry = rs.[3 * q + 1]
                        let rz = rs.[3 * q + 2]
                        wxx <- wxx - rx * gx
                        wxy <- wxy - rx * gy
                        wxz <- wxz - rx * gz
                        wyx <- wyx - ry * gx
                        wyy <- wyy - ry * gy
                        wyz <- wyz - ry * gz
                        wzx <- wzx - rz * gx
                        wzy <- wzy - rz * gy
                        wzz <- wzz - rz * gz

                    buf.[3 * i] <- buf.[3 * i] - sx
                    buf.[3 * i + 1] <- buf.[3 * i + 1] - sy
                    buf.[3 * i + 2] <- buf.[3 * i + 2] - sz

            let v = 9 * ch
            virials.[v] <- wxx
            virials.[v + 1] <- wxy
            virials.[v + 2] <- wxz
            virials.[v + 3] <- wyx
            virials.[v + 4] <- wyy
            virials.[v + 5] <- wyz
            virials.[v + 6] <- wzx
            virials.[v + 7] <- wzy
            virials.[v + 8] <- wzz)
        |> ignore

        // deterministic reduction in chunk order; F = -dE/dy
        let forces = Array.zeroCreate (3 * n)

        for q in 0 .. 3 * n - 1 do
            let mutable s = 0.0

            for ch in 0 .. chunks - 1 do
                s <- s + buffers.[ch].[q]

            forces.[q] <- -s

        let virial = Array.zeroCreate 9

        for a in 0..8 do
            let mutable s = 0.0

            for ch in 0 .. chunks - 1 do
                s <- s + virials.[9 * ch + a]

            virial.[a] <- s

        Results.Create(total site, site, forces, virial)

    /// Energy, site energies, forces and virial of the sites with mask[ℓ] = true (all sites when `mask` is empty);
    /// the model's own whole-configuration evaluation unless `settings.Generic` is set.
    let private gradientCore
        (settings: Settings)
        (pot: ISitePotential)
        (config: Configuration)
        (nl: NeighbourList)
        (mask: bool[])
        =
        let z = check settings pot config nl

        match pot with
        | :? IFastEvaluation as fast when not settings.Generic ->
            let n = config.Count
            let site = Array.zeroCreate n
            let forces = Array.zeroCreate (3 * n)
            let virial = Array.zeroCreate 9
            fast.Evaluate(settings, z, config.Positions, nl, mask, site, forces, virial)
            Results.Create(total site, site, forces, virial)
        | _ -> gradientGeneric settings pot z config.Positions nl mask

    /// Energy, site energies, forces (-∂E/∂y) and virial (-∂E/∂ε) in one pass, with explicit settings.
    /// `nl` must be a neighbour list current for `config` (a half list is expanded for the generic path) with cutoff >= the model's cutoff; raises ArgumentException otherwise, or when
    /// a species of `config` is unknown to the model (naming the element).
    let allWith (settings: Settings) (pot: ISitePotential) (config: Configuration) (nl: NeighbourList) : Results =
        gradientCore settings pot config nl [||]

    /// Energy, site energies, forces and virial in one pass, default settings (see `allWith`).
    let all (pot: ISitePotential) (config: Configuration) (nl: NeighbourList) : Results = allWith defaults pot config nl

    /// Partial energy E_S = Σ_{ℓ∈S} V_ℓ of the sites S = { ℓ : sites[ℓ] } and its exact gradient: `Forces` are
    /// -∂E_S/∂y on every atom (atoms outside S feel the forces of the sites in S whose neighbourhood they belong to),
    /// `Virial` is -∂E_S/∂ε, `SiteEnergies` are V_ℓ on S and 0 elsewhere. Energy mixing (3.8) sums such partial
    /// energies over the QM/MM regions (STYLE 6). `sites` must have one entry per atom.
    let partialWith
        (settings: Settings)
        (pot: ISitePotential)
        (config: Configuration)
        (nl: NeighbourList)
        (sites: bool[])
        : Results =
        Validate.length "sites" config.Count sites

        if sites.Length = 0 then
            gradientCore settings pot config nl [||]
        else
            gradientCore settings pot config nl sites

    /// Partial energy of the selected sites and its exact gradient, default settings (see `partialWith`).
    let partial (pot: ISitePotential) (config: Configuration) (nl: NeighbourList) (sites: bool[]) : Results =
        partialWith defaults pot config nl sites

    /// Stress σ = -W/V (eV/Å^3), 3x3 row-major, from the virial of `r` and the cell volume of `config`. Defined only for
    /// fully periodic cells: raises ArgumentException for clusters and quasi-2D domains.
    let stress (config: Configuration) (r: Results) : float[] =
        if not (config.Cell.Pbc.[0] && config.Cell.Pbc.[1] && config.Cell.Pbc.[2]) then
            invalidArg
                "config"
                (sprintf
                    "the stress needs a cell periodic along all three axes, got pbc = %b %b %b"
                    config.Cell.Pbc.[0]
                    config.Cell.Pbc.[1]
                    config.Cell.Pbc.[2])

        let v = abs (Cell.volume config.Cell)
        r.Virial |> Array.map (fun w -> -w / v)
