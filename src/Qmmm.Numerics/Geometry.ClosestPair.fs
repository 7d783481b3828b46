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

    /// Volume per unit of the configuration's extent (periodic heights, open extents + 1 Å) and the squared diagonal
    /// of that extent: the first cutoff guess of the searches and their upper bound.
    let private extent (config: Configuration) =
        let n = config.Count
        let cell = config.Cell
        let x = config.Positions
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

        struct (vol, diag2)

    /// The pair (i ≤ j) in (d², i, j) order among the partial results of the parts.
    let private best (partial: struct (float * int * int)[]) =
        let mutable best = Double.PositiveInfinity
        let mutable bi = -1
        let mutable bj = -1

        for struct (d2, i, j) in partial do
            if d2 < best || (d2 = best && (i < bi || (i = bi && j < bj))) then
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
            let struct (vol, diag2) = extent config
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

                let struct (d2, bi, bj) = best partial

                if bi >= 0 then
                    result <- struct (bi, bj, Math.Sqrt d2)
                    found <- true
                elif cutoff > bound then
                    invalidArg "config" "no pair of atoms found within the extent of the configuration"
                else
                    cutoff <- 2.0 * cutoff

            result

    /// `within` by hashed cubes of side `limit` (internal; see `within`), or None when a periodic height is below
    /// 2 limit (then an atom may meet more than one image of another across a face, which the ghosts below omit) or
    /// the coordinates exceed 4e15 limit (cube indices would no longer be exact integers).
    /// Atoms are wrapped into the cell; an atom closer than `limit` to a periodic face gets a ghost image beyond it
    /// (at most 7 per atom); every pair closer than `limit` is then an atom and a point (atom or ghost) in one of the
    /// 27 cubes around it. A cube of side `limit` holds at most 8 points pairwise `limit` or more apart, so when the
    /// points' cube neighbourhoods total more than 216 per point some cube holds 9 or more and they overlap: then only
    /// the first 9 points of each such cube are compared (any 9 points in such a cube include a pair closer than
    /// `limit`, by the pigeonhole principle on its 8 half-cubes) and that overlapping pair is returned instead of the
    /// closest one. O(N) time and memory either way.
    let internal withinHashed (limit: float) (config: Configuration) : struct (int * int * float) voption =
        let n = config.Count
        let cell = config.Cell
        let x = config.Positions
        let per = cell.Pbc
        let f = frame cell
        let a = Array.init 3 (Cell.vector cell)
        let det = Vec3.dot f.[0] (Vec3.cross f.[1] f.[2])

        let b =
            [| (1.0 / det) * Vec3.cross f.[1] f.[2]
               (1.0 / det) * Vec3.cross f.[2] f.[0]
               (1.0 / det) * Vec3.cross f.[0] f.[1] |]

        let height = Array.init 3 (fun k -> 1.0 / Vec3.norm b.[k])

        // every point (wrapped atom or ghost) lies within max |x| + 2 Σ |a_k| of the origin; cube indices must stay
        // exact integers in a double, else distinct cubes would merge
        let extent =
            (Array.fold (fun m v -> max m (abs v)) 0.0 x) * Math.Sqrt 3.0
            + 2.0
              * ([| 0..2 |] |> Array.sumBy (fun k -> if per.[k] then Vec3.norm a.[k] else 0.0))

        if
            [| 0..2 |] |> Array.exists (fun k -> per.[k] && not (height.[k] >= 2.0 * limit))
            || not (extent / limit < 4e15)
        then
            ValueNone
        else
            // points: atom, integer image shift s (point = x_atom + s·A) and position
            let pAtom = ResizeArray<int>(n + n / 4)
            let pShift = ResizeArray<int>(3 * n)
            let pPos = ResizeArray<Vec3>(n + n / 4)
            let choices = Array.init 3 (fun _ -> Array.zeroCreate<int> 2)
            let counts = Array.zeroCreate<int> 3

            for i in 0 .. n - 1 do
                let xi = Vec3.get x i
                let w = Array.zeroCreate<int> 3

                for k in 0..2 do
                    counts.[k] <- 0

                    if per.[k] then
                        let sk = Vec3.dot b.[k] xi
                        let wk = Math.Floor sk
                        // far beyond the cell: the pair search cannot represent the shift; the binned search refuses it
                        if abs wk > 1e9 then
                            invalidArg
                                "config"
                                (sprintf "atom %d lies %g cell periods outside the periodic cell along axis %d" i wk k)

                        w.[k] <- -(int wk)
                        let fk = sk - wk
                        let reach = limit / height.[k]

                        if fk < reach then
                            choices.[k].[counts.[k]] <- 1
                            counts.[k] <- counts.[k] + 1

                        if fk > 1.0 - reach then
                            choices.[k].[counts.[k]] <- -1
                            counts.[k] <- counts.[k] + 1

                let add (o0: int) (o1: int) (o2: int) =
                    let s0, s1, s2 = w.[0] + o0, w.[1] + o1, w.[2] + o2
                    pAtom.Add i
                    pShift.Add s0
                    pShift.Add s1
                    pShift.Add s2
                    pPos.Add(xi + shiftVector a.[0] a.[1] a.[2] s0 s1 s2)

                add 0 0 0

                for c0 in -1 .. counts.[0] - 1 do
                    for c1 in -1 .. counts.[1] - 1 do
                        for c2 in -1 .. counts.[2] - 1 do
                            if c0 >= 0 || c1 >= 0 || c2 >= 0 then
                                let o0 = if c0 < 0 then 0 else choices.[0].[c0]
                                let o1 = if c1 < 0 then 0 else choices.[1].[c1]
                                let o2 = if c2 < 0 then 0 else choices.[2].[c2]
                                add o0 o1 o2


            let np = pAtom.Count
            let inv = 1.0 / limit

            let keyOf (p: Vec3) =
                struct (Math.Floor(p.X * inv), Math.Floor(p.Y * inv), Math.Floor(p.Z * inv))

            // cubes in CSR form: cube id per point, points of a cube in ascending point order
            let ids =
                System.Collections.Generic.Dictionary<struct (float * float * float), int>()

            let cubeOf = Array.zeroCreate np

            for q in 0 .. np - 1 do
                let key = keyOf pPos.[q]

                match ids.TryGetValue key with
                | true, id -> cubeOf.[q] <- id
                | _ ->
                    let id = ids.Count
                    ids.[key] <- id
                    cubeOf.[q] <- id

            let nc = ids.Count
            let start = Array.zeroCreate (nc + 1)

            for q in 0 .. np - 1 do
                start.[cubeOf.[q] + 1] <- start.[cubeOf.[q] + 1] + 1

            for c in 0 .. nc - 1 do
                start.[c + 1] <- start.[c + 1] + start.[c]

            let members = Array.zeroCreate np
            let next = Array.copy start

            for q in 0 .. np - 1 do
                members.[next.[cubeOf.[q]]] <- q
                next.[cubeOf.[q]] <- next.[cubeOf.[q]] + 1

            // the 27 neighbour cubes of every cube (-1 where empty), and the work of the exact scan
            let around = Array.create (27 * nc) -1
            let mutable work = 0L

            for KeyValue(struct (cx, cy, cz), id) in ids do
                let mutable e = 0
                let mutable hood = 0L

                for dx in -1.0 .. 1.0 do
                    for dy in -1.0 .. 1.0 do
                        for dz in -1.0 .. 1.0 do
                            match ids.TryGetValue(struct (cx + dx, cy + dy, cz + dz)) with
                            | true, other ->
                                around.[27 * id + e] <- other
                                hood <- hood + int64 (start.[other + 1] - start.[other])
                            | _ -> ()

                            e <- e + 1

                work <- work + int64 (start.[id + 1] - start.[id]) * hood

            let c0, c1, c2 = a.[0], a.[1], a.[2]
            let mutable best = Double.PositiveInfinity
            let mutable bi = -1
            let mutable bj = -1
            let c2lim = limit * limit

            // the pair of points p (an atom at shift sp) and q, as atoms i <= j with d² computed as in `reference`
            let consider (p: int) (q: int) =
                let i0, j0 = pAtom.[p], pAtom.[q]
                let i, j, pp, qq = if i0 <= j0 then i0, j0, p, q else j0, i0, q, p
                let t0 = pShift.[3 * qq] - pShift.[3 * pp]
                let t1 = pShift.[3 * qq + 1] - pShift.[3 * pp + 1]
                let t2 = pShift.[3 * qq + 2] - pShift.[3 * pp + 2]

                if i <> j || t0 <> 0 || t1 <> 0 || t2 <> 0 then
                    let v = Vec3.get x j + shiftVector c0 c1 c2 t0 t1 t2 - Vec3.get x i
                    let d2 = Vec3.dot v v

                    if d2 < c2lim && (d2 < best || (d2 = best && (i < bi || (i = bi && j < bj)))) then
                        best <- d2
                        bi <- i
                        bj <- j

            if work > 216L * int64 np then
                // crowded: some cube holds 9 or more points, which overlap; compare the first 9 of each such cube
                for c in 0 .. nc - 1 do
                    if start.[c + 1] - start.[c] > 8 then
                        let hi = start.[c] + 8

                        for u in start.[c] .. hi do
                            for v in u + 1 .. hi do
                                consider members.[u] members.[v]
            else
                // exact: every atom (its own point, shift -wrap) against every point of the 27 cubes around it
                for p in 0 .. np - 1 do
                    let isOriginal = p = 0 || pAtom.[p - 1] <> pAtom.[p]

                    if isOriginal then
                        let i = pAtom.[p]
                        let c = cubeOf.[p]

                        for e in 0..26 do
                            let other = around.[27 * c + e]

                            if other >= 0 then
                                for u in start.[other] .. start.[other + 1] - 1 do
                                    let q = members.[u]

                                    if pAtom.[q] >= i then
                                        consider p q

            ValueSome(
                if bi >= 0 then
                    struct (bi, bj, Math.Sqrt best)
                else
                    struct (-1, -1, Double.PositiveInfinity)
            )

    /// The closest pair below `limit` in one pass over all bins of `bins` (in parallel parts).
    let private closestBinned (bins: Bins) (limit: float) (config: Configuration) =
        let parts = partsFor config.Count Environment.ProcessorCount
        let ranges = binRanges bins parts
        let partial = Array.zeroCreate parts

        forParts parts Environment.ProcessorCount (fun p ->
            partial.[p] <- closestIn bins config.Positions limit ranges.[p] ranges.[p + 1])

        let struct (d2, bi, bj) = best partial

        if bi >= 0 then
            struct (bi, bj, Math.Sqrt d2)
        else
            struct (-1, -1, Double.PositiveInfinity)

    /// Bins of width max(limit, (volume per atom)^(1/3)) for the searches below.
    let private withinBins (limit: float) (config: Configuration) =
        let struct (vol, _) = extent config
        binAtoms (max limit (Math.Cbrt(vol / float config.Count))) 1 config

    /// `within` by one pass of cell-list bins only (internal; the crowded case costs the square of the bin occupancy):
    /// the search `within` uses for physical inputs, kept callable as the baseline of the benchmark.
    let internal withinBinned (limit: float) (config: Configuration) : struct (int * int * float) =
        Validate.positive "limit" limit
        validate config
        let n = config.Count

        if n = 0 || (n = 1 && Cell.isCluster config.Cell) then
            struct (-1, -1, Double.PositiveInfinity)
        else
            closestBinned (withinBins limit config) limit config

    /// The closest pair (i ≤ j, distance in Å) among the pairs closer than `limit` (Å, > 0), periodic images included,
    /// or (-1, -1, +∞) when no two atoms are that close: the input check that rejects overlapping atoms. One pass of
    /// cell lists with bins no narrower than `limit` and about one atom each, so it costs O(N) for physical inputs
    /// (many times cheaper than `find`, which must reach the nearest-neighbour distance). When those bins are crowded
    /// (Σ bin count² > 64 N: coincident atoms, or a dense crystal with a far outlier that widens every bin) the search
    /// switches to `withinHashed` (cubes of side `limit`, O(N) time and memory; for 9 or more points in one such cube
    /// it returns an overlapping pair, not necessarily the closest); only periodic cells thinner than 2 limit keep the
    /// crowded bins, whose cost is the square of their occupancy (in time only). Raises as `find` does.
    let within (limit: float) (config: Configuration) : struct (int * int * float) =
        Validate.positive "limit" limit
        validate config
        let n = config.Count

        if n = 0 || (n = 1 && Cell.isCluster config.Cell) then
            struct (-1, -1, Double.PositiveInfinity)
        else
            let bins = withinBins limit config
            let mutable crowding = 0L

            for c in 0 .. bins.Start.Length - 2 do
                let m = int64 (bins.Start.[c + 1] - bins.Start.[c])
                crowding <- crowding + m * m

            let hashed =
                if crowding > 64L * int64 n then
                    withinHashed limit config
                else
                    ValueNone

            match hashed with
            | ValueSome result -> result
            | ValueNone -> closestBinned bins limit config
