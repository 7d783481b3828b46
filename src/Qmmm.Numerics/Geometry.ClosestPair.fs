namespace Qmmm.Numerics

open System
open System.Runtime.Intrinsics

/// The closest pair of atoms of a configuration (periodic images included), by cell lists of growing cutoff: the
/// input check that rejects overlapping atoms, without storing a neighbour list.
[<RequireQualifiedAccess>]
module ClosestPair =
    open CellList


    /// Closest pair within `cutoff` among the atoms i of bins binLo .. binHi-1 and their neighbours j ≥ i: struct
    /// (d², i, j), the smallest in (d², i, j) order, or (+∞, -1, -1). d² is computed exactly as in `reference`.
    let internal closestIn (bins: Bins) (x: float[]) (cutoff: float) (binLo: int) (binHi: int) =
        let c2 = cutoff * cutoff
        let hood = newHood 1024
        let a0, a1, a2 = bins.A.[0], bins.A.[1], bins.A.[2]
        let mutable best = Double.PositiveInfinity
        let mutable bi = -1
        let mutable bj = -1

        for bin in binLo .. binHi - 1 do
            if bins.Start.[bin + 1] > bins.Start.[bin] then
                let count = gather bins bin hood

                for p in bins.Start.[bin] .. bins.Start.[bin + 1] - 1 do
                    let i = bins.Atoms.[p]
                    let xi = Vec3.get bins.X p
                    let wi0 = bins.Wrap.[3 * p]
                    let wi1 = bins.Wrap.[3 * p + 1]
                    let wi2 = bins.Wrap.[3 * p + 2]

                    for e in 0 .. count - 1 do
                        let j = hood.J.[e]
                        let t0 = hood.T.[3 * e] + wi0
                        let t1 = hood.T.[3 * e + 1] + wi1
                        let t2 = hood.T.[3 * e + 2] + wi2

                        if j >= i && (j <> i || t0 <> 0 || t1 <> 0 || t2 <> 0) then
                            let v =
                                if wi0 = 0 && wi1 = 0 && wi2 = 0 then
                                    Vec3(hood.Ex.[e], hood.Ey.[e], hood.Ez.[e]) - xi
                                else
                                    Vec3.get x j + shiftVector a0 a1 a2 t0 t1 t2 - xi

                            let d2 = Vec3.dot v v

                            if d2 < c2 && (d2 < best || (d2 = best && (i < bi || (i = bi && j < bj)))) then
                                best <- d2
                                bi <- i
                                bj <- j

        struct (best, bi, bj)

    /// The closest pair of atoms (i, j, distance in Å) with i ≤ j, periodic images included (i = j means an atom is
    /// closest to its own periodic image), found with cell lists of growing cutoff (no list is stored); among equally
    /// close pairs the smallest (i, j). (-1, -1, +∞) for fewer than two atoms (and no periodic axis). The distance is
    /// computed exactly as in `reference`. Used to reject overlapping atoms (e.g. closer than 0.5 Å). Raises
    /// `ArgumentException` for a NaN/∞ position (naming the atom) or degenerate periodic cell vectors.
    let find (config: Configuration) : struct (int * int * float) =
        validate config
        let n = config.Count
        let cell = config.Cell
        let x = config.Positions

        if n = 0 || (n = 1 && Cell.isCluster cell) then
            struct (-1, -1, Double.PositiveInfinity)
        else
            // a volume per atom from the periodic heights and the open extents gives the first cutoff guess
            let f = frame cell
            let mutable vol = abs (Vec3.dot f.[0] (Vec3.cross f.[1] f.[2]))
            let mutable diag2 = 0.0

            for k in 0..2 do
                if not cell.Pbc.[k] then
                    let e = Vec3.normalize f.[k]
                    let mutable mn = Double.PositiveInfinity
                    let mutable mx = Double.NegativeInfinity

                    for i in 0 .. n - 1 do
                        let s = Vec3.dot e (Vec3.get x i)
                        mn <- min mn s
                        mx <- max mx s

                    vol <- vol * (mx - mn + 1.0)
                    diag2 <- diag2 + (mx - mn) * (mx - mn)
                else
                    let ak = Cell.vector cell k
                    diag2 <- diag2 + Vec3.dot ak ak

            let bound = 2.0 * Math.Sqrt diag2 + 1.0
            let parts = partsFor n Environment.ProcessorCount
            let mutable cutoff = max 1e-3 (Math.Cbrt(vol / float n))
            let mutable result = struct (-1, -1, Double.PositiveInfinity)
            let mutable found = false

            while not found do
                let bins = binAtoms cutoff 1 config
                let ranges = binRanges bins parts
                let partial = Array.zeroCreate parts

                forParts parts Environment.ProcessorCount (fun p ->
                    partial.[p] <- closestIn bins x cutoff ranges.[p] ranges.[p + 1])

                let mutable best = Double.PositiveInfinity
                let mutable bi = -1
                let mutable bj = -1

                for struct (d2, i, j) in partial do
                    if d2 < best || (d2 = best && (i < bi || (i = bi && j < bj))) then
                        best <- d2
                        bi <- i
                        bj <- j

                if bi >= 0 then
                    result <- struct (bi, bj, Math.Sqrt best)
                    found <- true
                elif cutoff > bound then
                    invalidArg "config" "no pair of atoms found within the extent of the configuration"
                else
                    cutoff <- 2.0 * cutoff

            result
