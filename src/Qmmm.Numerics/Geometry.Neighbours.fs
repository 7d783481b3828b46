namespace Qmmm.Numerics

open System
open System.Runtime.Intrinsics

/// What a neighbour list is built for (STYLE 4: start from `NeighbourOptions.Defaults`).
type NeighbourOptions =
    {
        /// Verlet skin (Å, >= 0, default 0): entries are collected within Cutoff + Skin, so the list stays valid while
        /// no atom moves more than Skin / 2. Relaxation loops use about 1 Å (LAMMPS's metal-units default is 2 Å).
        Skin: float
        /// A half list (each unordered pair once) for pair-symmetric kernels (EAM's fast path); default false.
        Half: bool
        /// Maximum number of threads (>= 1); the list does not depend on it. Default: all cores.
        Threads: int
    }

    /// Full list, no skin, all cores.
    static member Defaults =
        { Skin = 0.0
          Half = false
          Threads = Environment.ProcessorCount }

/// Neighbour-list construction (cell lists, `reference` as the oracle), staleness checks and entry vectors.
[<RequireQualifiedAccess>]
module Neighbours =
    open CellList

    /// Range of image shifts along each axis needed to see every pair within `cutoff` (0 on open axes).
    let internal imageRange (cell: Cell) (cutoff: float) =
        Array.init 3 (fun i ->
            if cell.Pbc.[i] then
                int (Math.Ceiling(cutoff / Cell.height cell i))
            else
                0)

    /// True when an entry of row i with neighbour j and vector v belongs to the half list: j > i, or j = i (a periodic
    /// self-image) with v lexicographically positive.
    let inline internal keepsHalf (i: int) (j: int) (vx: float) (vy: float) (vz: float) =
        if j <> i then
            j > i
        else
            vx > 0.0 || (vx = 0.0 && (vy > 0.0 || (vy = 0.0 && vz > 0.0)))

    /// The slow, obviously correct O(N^2 x images) neighbour list: the oracle for the fast cell-list builder. Every
    /// ordered pair (i, j, image shift s) with |y_j + s·A − y_i| < cutoff + skin (i = j only with s ≠ 0), rows ordered
    /// by (j, s) lexicographically; a half list keeps the entries `keepsHalf` accepts.
    let referenceWith (options: NeighbourOptions) (cutoff: float) (config: Configuration) : NeighbourList =
        Validate.positive "cutoff" cutoff
        Validate.nonNegative "skin" options.Skin
        let n = config.Count
        let x = config.Positions
        let reach = cutoff + options.Skin
        // Atoms may lie outside the cell (unwrapped after moves): along a periodic axis, a pair within reach needs
        // shifts |s| < reach / height + (spread of the atoms' fractional coordinates), so the range is widened by
        // that spread; with every atom inside the cell this is ceil(reach / height) + 1 at most.
        let range =
            let basic = imageRange config.Cell reach

            if n = 0 || Cell.isCluster config.Cell then
                basic
            else
                let b = Cell.reciprocal config.Cell

                Array.init 3 (fun k ->
                    if not config.Cell.Pbc.[k] then
                        0
                    else
                        let mutable lo = Double.PositiveInfinity
                        let mutable hi = Double.NegativeInfinity

                        for i in 0 .. n - 1 do
                            let f = Vec3.dot b.[k] (Vec3.get x i)
                            lo <- min lo f
                            hi <- max hi f

                        int (Math.Ceiling(reach / Cell.height config.Cell k + (hi - lo))))

        let a = Array.init 3 (Cell.vector config.Cell)
        let rows = Array.init n (fun _ -> ResizeArray<struct (int * int)>())
        let c2 = reach * reach

        for i in 0 .. n - 1 do
            let xi = Vec3.get x i

            for j in 0 .. n - 1 do
                let xj = Vec3.get x j

                for s0 in -range.[0] .. range.[0] do
                    for s1 in -range.[1] .. range.[1] do
                        for s2 in -range.[2] .. range.[2] do
                            if not (i = j && s0 = 0 && s1 = 0 && s2 = 0) then
                                let shift = float s0 * a.[0] + float s1 * a.[1] + float s2 * a.[2]
                                let v = xj + shift - xi

                                if Vec3.dot v v < c2 && (not options.Half || keepsHalf i j v.X v.Y v.Z) then
                                    rows.[i].Add(struct (j, ImageShift.pack s0 s1 s2))

        let start = Array.zeroCreate (n + 1)

        for i in 0 .. n - 1 do
            start.[i + 1] <- start.[i] + rows.[i].Count

        { Cutoff = cutoff
          Skin = options.Skin
          Half = options.Half
          Start = start
          Index =
            rows
            |> Array.collect (fun r -> r.ToArray() |> Array.map (fun struct (j, _) -> j))
          Image =
            rows
            |> Array.collect (fun r -> r.ToArray() |> Array.map (fun struct (_, s) -> s))
          BuiltPositions = Array.copy config.Positions
          BuiltCell = config.Cell }

    /// `referenceWith` for a full list without skin.
    let reference (cutoff: float) (config: Configuration) : NeighbourList =
        referenceWith NeighbourOptions.Defaults cutoff config

    /// Scans the neighbourhood for the atom in slot p (atom i): with `write` false returns the number of entries of
    /// row i; with `write` true also stores their atoms and packed image shifts at index/image from position `at` on,
    /// in neighbourhood order. The test is the exact one of `reference`: |(y_j + t·A) − y_i|² < reach², excluding i
    /// itself (t = 0), and for a half list `keepsHalf`; SIMD lanes compute the same IEEE operations as the scalar code.
    let internal scanRow
        (bins: Bins)
        (x: float[])
        (c2: float)
        (half: bool)
        (hood: Hood)
        (p: int)
        (write: bool)
        (at: int)
        (index: int[])
        (image: int[])
        : int =
        let i = bins.Atoms.[p]
        let xix = bins.X.[3 * p]
        let xiy = bins.X.[3 * p + 1]
        let xiz = bins.X.[3 * p + 2]
        let wi0 = bins.Wrap.[3 * p]
        let wi1 = bins.Wrap.[3 * p + 1]
        let wi2 = bins.Wrap.[3 * p + 2]
        let count = hood.Count
        let js = hood.J
        let ts = hood.T
        let mutable k = at

        if wi0 = 0 && wi1 = 0 && wi2 = 0 then
            // the images are those of the neighbourhood: SIMD distance tests, branch-free compaction into Sel
            let ex = hood.Ex
            let ey = hood.Ey
            let ez = hood.Ez
            let c2v = Vector256.Create(c2: float)
            let xv = Vector256.Create(xix: float)
            let yv = Vector256.Create(xiy: float)
            let zv = Vector256.Create(xiz: float)
            let sel = hood.Sel
            let mutable found = 0
            let mutable e = 0

            while e < count do
                let vx = Vector256.LoadUnsafe(&ex.[e]) - xv
                let vy = Vector256.LoadUnsafe(&ey.[e]) - yv
                let vz = Vector256.LoadUnsafe(&ez.[e]) - zv
                let d2 = vx * vx + vy * vy + vz * vz
                let mask = Vector256.ExtractMostSignificantBits(Vector256.LessThan(d2, c2v))
                sel.[found] <- e
                found <- found + int (mask &&& 1u)
                sel.[found] <- e + 1
                found <- found + int ((mask >>> 1) &&& 1u)
                sel.[found] <- e + 2
                found <- found + int ((mask >>> 2) &&& 1u)
                sel.[found] <- e + 3
                found <- found + int (mask >>> 3)
                e <- e + lanes

            if not write && not half then
                // i itself (t = 0, vector 0) is in its own neighbourhood and was counted
                k <- at + found - 1
            else
                for s in 0 .. found - 1 do
                    let f = sel.[s]
                    let j = js.[f]

                    if j <> i || ts.[3 * f] <> 0 || ts.[3 * f + 1] <> 0 || ts.[3 * f + 2] <> 0 then
                        if not half || keepsHalf i j (ex.[f] - xix) (ey.[f] - xiy) (ez.[f] - xiz) then
                            if write then
                                index.[k] <- j
                                image.[k] <- ImageShift.pack ts.[3 * f] ts.[3 * f + 1] ts.[3 * f + 2]

                            k <- k + 1
        else
            // an atom outside the cell: shifts t + wrap_i, images recomputed as in `reference`
            let a0, a1, a2 = bins.A.[0], bins.A.[1], bins.A.[2]
            let mutable c0 = Int32.MinValue
            let mutable c1 = 0
            let mutable c2i = 0
            let mutable sx = 0.0
            let mutable sy = 0.0
            let mutable sz = 0.0

            for e in 0 .. count - 1 do
                let j = js.[e]
                let t0 = ts.[3 * e] + wi0
                let t1 = ts.[3 * e + 1] + wi1
                let t2 = ts.[3 * e + 2] + wi2

                if t0 <> c0 || t1 <> c1 || t2 <> c2i then
                    let s = shiftVector a0 a1 a2 t0 t1 t2
                    sx <- s.X
                    sy <- s.Y
                    sz <- s.Z
                    c0 <- t0
                    c1 <- t1
                    c2i <- t2

                let vx = x.[3 * j] + sx - xix
                let vy = x.[3 * j + 1] + sy - xiy
                let vz = x.[3 * j + 2] + sz - xiz
                let d2 = vx * vx + vy * vy + vz * vz

                if
                    d2 < c2
                    && (j <> i || t0 <> 0 || t1 <> 0 || t2 <> 0)
                    && (not half || keepsHalf i j vx vy vz)
                then
                    if write then
                        index.[k] <- j
                        image.[k] <- ImageShift.pack t0 t1 t2

                    k <- k + 1

        k - at

    /// Pass 1 of `build` over bins binLo .. binHi-1: stores the row length of every atom of these bins in counts
    /// and returns the number of candidate pairs tested.
    let internal countRows
        (bins: Bins)
        (x: float[])
        (reach: float)
        (half: bool)
        (binLo: int)
        (binHi: int)
        (counts: int[])
        =
        let c2 = reach * reach
        let hood = newHood 1024
        let mutable candidates = 0L

        for bin in binLo .. binHi - 1 do
            let p0 = bins.Start.[bin]
            let p1 = bins.Start.[bin + 1]

            if p1 > p0 then
                let size = gather bins bin hood
                candidates <- candidates + int64 (p1 - p0) * int64 size

                for p in p0 .. p1 - 1 do
                    counts.[bins.Atoms.[p]] <- scanRow bins x c2 half hood p false 0 Array.empty Array.empty

        candidates

    /// Pass 2 of `build` over bins binLo .. binHi-1: writes the row of every atom i of these bins at start[i], in the
    /// order of the sorted neighbourhood (by j, then image shift). Returns false if a row length differs from pass 1.
    let internal fillRows
        (bins: Bins)
        (x: float[])
        (reach: float)
        (half: bool)
        (binLo: int)
        (binHi: int)
        (start: int[])
        (index: int[])
        (image: int[])
        : bool =
        let c2 = reach * reach
        let hood = newHood 1024
        let mutable ok = true

        for bin in binLo .. binHi - 1 do
            let p0 = bins.Start.[bin]
            let p1 = bins.Start.[bin + 1]

            if p1 > p0 then
                gather bins bin hood |> ignore
                sortHood hood

                for p in p0 .. p1 - 1 do
                    let i = bins.Atoms.[p]

                    if
                        scanRow bins x c2 half hood p true start.[i] index image
                        <> start.[i + 1] - start.[i]
                    then
                        ok <- false

        ok

    /// Bin width as a fraction of the reach is 1 / `subdivide` (1 measured fastest: a bin's sorted neighbourhood is
    /// then shared by the most atoms).
    let private subdivide = 1

    /// The two-pass search behind `build`: `parts` contiguous ranges of bins (about N / parts atoms each) run on up to
    /// `threads` threads; the result does not depend on either. Pass 1 counts the entries of every row, pass 2 writes
    /// every row in place. Returns the list and the number of candidate pairs tested in pass 1 (the work, linear in N
    /// for a bounded density).
    let internal buildPartsLimited
        (maxPerAtom: int)
        (parts: int)
        (threads: int)
        (options: NeighbourOptions)
        (cutoff: float)
        (config: Configuration)
        : NeighbourList * int64 =
        Validate.positive "cutoff" cutoff
        Validate.finite "cutoff" cutoff
        Validate.nonNegative "skin" options.Skin
        Validate.finite "skin" options.Skin
        validate config
        let n = config.Count
        let x = config.Positions
        let reach = cutoff + options.Skin
        let half = options.Half
        let bins = binAtoms reach subdivide config
        let parts = max 1 (min parts n)
        let ranges = binRanges bins parts
        let counts = Array.zeroCreate n
        let work = Array.zeroCreate parts

        forParts parts threads (fun p -> work.[p] <- countRows bins x reach half ranges.[p] ranges.[p + 1] counts)

        let start = Array.zeroCreate (n + 1)
        let mutable total = 0L

        for i in 0 .. n - 1 do
            total <- total + int64 counts.[i]

            if counts.[i] > maxPerAtom then
                invalidArg
                    "config"
                    (sprintf
                        "atom %d has %d neighbours within %g Å, above the limit %d per atom (set QMMM_MAX_NEIGHBOURS to raise it)"
                        i
                        counts.[i]
                        reach
                        maxPerAtom)

            if total > int64 Array.MaxLength then
                invalidArg
                    "config"
                    (sprintf
                        "the neighbour list would hold more than %d entries (reach %g Å, %d atoms); use a smaller cutoff or configuration"
                        Array.MaxLength
                        reach
                        n)

            start.[i + 1] <- int total

        let total = start.[n]
        // every entry is written by pass 2 (checked below), so the arrays need not be zeroed first
        let index = GC.AllocateUninitializedArray<int> total
        let image = GC.AllocateUninitializedArray<int> total
        let ok = Array.zeroCreate parts

        forParts parts threads (fun p ->
            ok.[p] <- fillRows bins x reach half ranges.[p] ranges.[p + 1] start index image)

        if not (Array.forall (fun good -> good) ok) then
            raise (InvalidOperationException "Neighbours.build: the counting and filling passes disagree (a bug)")

        { Cutoff = cutoff
          Skin = options.Skin
          Half = half
          Start = start
          Index = index
          Image = image
          BuiltPositions = Array.copy config.Positions
          BuiltCell = config.Cell },
        Array.sum work

    /// `buildPartsLimited` without a per-atom limit.
    let internal buildParts parts threads options cutoff config =
        buildPartsLimited Int32.MaxValue parts threads options cutoff config

    /// `buildParts` for tests: `chunks` > 0 fixes the number of parts (and threads); 0 chooses as `build` does.
    let internal buildChunked (chunks: int) (cutoff: float) (config: Configuration) : NeighbourList * int64 =
        if chunks > 0 then
            buildParts chunks chunks NeighbourOptions.Defaults cutoff config
        else
            let threads = Environment.ProcessorCount
            buildParts (partsFor config.Count threads) threads NeighbourOptions.Defaults cutoff config

    /// The neighbour list of `config` for the interaction `cutoff` (Å) by cell lists, in O(N) time for a bounded
    /// density: every pair closer than cutoff + `options.Skin`, full or half (`options.Half`), on up to
    /// `options.Threads` threads (the result does not depend on it). Atoms are binned by their fractional coordinates
    /// in a frame made of the periodic cell vectors (completed by orthonormal directions on open axes; a cluster uses
    /// the bounding box of its positions in Cartesian axes), with bins at least cutoff + skin wide; periodic axes are
    /// wrapped (atoms outside the cell are binned at their wrapped position; their entries carry the image shift
    /// relative to the given positions), open axes are not. When the reach exceeds the cell height along a periodic
    /// axis, several images are visited. A first pass counts the entries of every row; a second writes every row in
    /// place: the atoms of one bin share its neighbourhood (the atoms of the surrounding bins with their images),
    /// sorted once by (j, image shift), which each of them scans with 4-wide SIMD distance tests. Rows are thus sorted
    /// by (j, s0, s1, s2): the same entries, in the same order, with bit-identical vectors (`vector`), as
    /// `referenceWith`. Raises `ArgumentException` for threads < 1, a non-positive cutoff, a negative skin, a NaN/∞
    /// position (naming the atom), an atom more than 200 periods outside the cell, a cell too thin for the cutoff
    /// (more than 111 periods), degenerate periodic cell vectors, or a list of more than 2^31 entries.
    let buildList (options: NeighbourOptions) (cutoff: float) (config: Configuration) : NeighbourList =
        Validate.intInRange "threads" 1 Int32.MaxValue options.Threads
        fst (buildParts (partsFor config.Count options.Threads) options.Threads options cutoff config)

    /// `buildList` that refuses, in the counting pass and so before the list is allocated, an atom with more than
    /// `maxPerAtom` neighbours within cutoff + skin (`ArgumentException` naming the atom, the count and the limit).
    let buildListLimited (maxPerAtom: int) (options: NeighbourOptions) (cutoff: float) (config: Configuration) =
        Validate.intInRange "threads" 1 Int32.MaxValue options.Threads
        Validate.intInRange "maxPerAtom" 0 Int32.MaxValue maxPerAtom
        fst (buildPartsLimited maxPerAtom (partsFor config.Count options.Threads) options.Threads options cutoff config)

    /// `buildList` for a full list without skin on up to `threads` threads.
    let buildWith (threads: int) (cutoff: float) (config: Configuration) : NeighbourList =
        buildList
            { NeighbourOptions.Defaults with
                Threads = threads }
            cutoff
            config

    /// `buildList` for a full list without skin on all cores: every ordered pair closer than `cutoff` (Å), rows
    /// sorted by (j, image shift) exactly as `reference`.
    let build (cutoff: float) (config: Configuration) : NeighbourList =
        buildList NeighbourOptions.Defaults cutoff config

    /// True when `nl` is valid for `config`: same atom count, the same cell (vectors and periodicity, bit for bit) as
    /// at build time, and no atom displaced by more than Skin / 2 from its build position (for Skin = 0: positions
    /// identical). Then every pair of `config` closer than `nl.Cutoff` is in the list. O(N), no allocation.
    let isCurrent (nl: NeighbourList) (config: Configuration) =
        let x = config.Positions
        let x0 = nl.BuiltPositions

        if nl.Count <> config.Count || x.Length <> x0.Length then
            false
        elif
            not (
                Array.forall2 (=) nl.BuiltCell.Vectors config.Cell.Vectors
                && Array.forall2 (=) nl.BuiltCell.Pbc config.Cell.Pbc
            )
        then
            false
        elif nl.Skin = 0.0 then
            let mutable same = true
            let mutable k = 0

            while same && k < x.Length do
                same <- x.[k] = x0.[k]
                k <- k + 1

            same
        else
            let lim = 0.25 * nl.Skin * nl.Skin
            let mutable ok = true
            let mutable i = 0

            while ok && i < nl.Count do
                let dx = x.[3 * i] - x0.[3 * i]
                let dy = x.[3 * i + 1] - x0.[3 * i + 1]
                let dz = x.[3 * i + 2] - x0.[3 * i + 2]
                ok <- dx * dx + dy * dy + dz * dz <= lim
                i <- i + 1

            ok

    /// Raises `ArgumentException` unless `Neighbours.isCurrent nl config`: evaluating with a list built for other
    /// positions or another cell never returns a silently stale result.
    let ensureCurrent (nl: NeighbourList) (config: Configuration) =
        if not (isCurrent nl config) then
            invalidArg
                "nl"
                (sprintf
                    "the neighbour list (%d atoms, skin %g Å) is stale for this configuration (%d atoms): atoms moved by more than skin/2 or the cell changed since it was built; rebuild it (a Calculator does so itself)"
                    nl.Count
                    nl.Skin
                    config.Count)


    /// The vector y_j + s·A − y_i (Å) of entry k (neighbour j = nl.Index[k], image shift s) of row i, computed from
    /// the positions `x` (3 per atom) with the cell vectors of the build; for positions the list is current for
    /// (`isCurrent`) it is the true neighbour vector. Bit-identical to the vector `reference` computes.
    let inline vector (nl: NeighbourList) (x: float[]) (i: int) (k: int) : Vec3 =
        let j = nl.Index.[k]
        let key = nl.Image.[k]

        if key = ImageShift.Zero then
            Vec3(x.[3 * j] - x.[3 * i], x.[3 * j + 1] - x.[3 * i + 1], x.[3 * j + 2] - x.[3 * i + 2])
        else
            let s = ImageShift.vector nl.BuiltCell.Vectors key
            Vec3(x.[3 * j] + s.X - x.[3 * i], x.[3 * j + 1] + s.Y - x.[3 * i + 1], x.[3 * j + 2] + s.Z - x.[3 * i + 2])

    /// |`vector` nl x i k| (Å).
    let inline distance (nl: NeighbourList) (x: float[]) (i: int) (k: int) = Vec3.norm (vector nl x i k)

    /// Every entry's vector (3 per entry, Å) for the positions `x`: a materialised copy for tests, stencils and
    /// callers that reuse the vectors many times (the list itself stores none).
    let vectors (nl: NeighbourList) (x: float[]) : float[] =
        let v = Array.zeroCreate (3 * nl.Pairs)

        for i in 0 .. nl.Count - 1 do
            for k in nl.Start.[i] .. nl.Start.[i + 1] - 1 do
                Vec3.set v k (vector nl x i k)

        v

    /// Every entry's distance (Å) for the positions `x`.
    let distances (nl: NeighbourList) (x: float[]) : float[] =
        let d = Array.zeroCreate nl.Pairs

        for i in 0 .. nl.Count - 1 do
            for k in nl.Start.[i] .. nl.Start.[i + 1] - 1 do
                d.[k] <- distance nl x i k

        d

    /// The full list holding the entries of a half list seen from both atoms (entry (i, j, s) also as (j, i, −s)),
    /// rows sorted by (j, image shift) like a built full list; a full list is returned as it is.
    let toFull (nl: NeighbourList) : NeighbourList =
        if not nl.Half then
            nl
        else
            let n = nl.Count
            let rows = Array.init n (fun _ -> ResizeArray<struct (int * int)>())

            for i in 0 .. n - 1 do
                for k in nl.Start.[i] .. nl.Start.[i + 1] - 1 do
                    let j = nl.Index.[k]
                    let key = nl.Image.[k]
                    rows.[i].Add(struct (j, key))

                    let back =
                        ImageShift.pack -(ImageShift.axis key 0) -(ImageShift.axis key 1) -(ImageShift.axis key 2)

                    rows.[j].Add(struct (i, back))

            let order (struct (j: int, key: int)) =
                struct (j, ImageShift.axis key 0, ImageShift.axis key 1, ImageShift.axis key 2)

            let sorted = rows |> Array.map (fun r -> r.ToArray() |> Array.sortBy order)
            let start = Array.zeroCreate (n + 1)

            for i in 0 .. n - 1 do
                start.[i + 1] <- start.[i] + sorted.[i].Length

            { nl with
                Half = false
                Start = start
                Index = sorted |> Array.collect (Array.map (fun struct (j, _) -> j))
                Image = sorted |> Array.collect (Array.map (fun struct (_, s) -> s)) }
