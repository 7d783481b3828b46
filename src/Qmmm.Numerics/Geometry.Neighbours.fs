namespace Qmmm.Numerics

open System
open System.Runtime.Intrinsics

/// A full neighbour list in compressed-row form: the neighbours of atom i are entries Start[i] .. Start[i+1]-1.
/// Every pair within the cutoff appears twice (i sees j and j sees i); periodic images along periodic axes are
/// distinct entries with their own vectors. Vectors[3k..3k+2] = y_j + shift - y_i (Å).
type NeighbourList =
    {
        /// Cutoff radius (Å); pairs with distance < Cutoff are listed.
        Cutoff: float
        /// Row starts, length N + 1.
        Start: int[]
        /// Neighbour atom index j of each entry.
        Index: int[]
        /// Neighbour vectors, 3 per entry (Å).
        Vectors: float[]
        /// Neighbour distances |Vectors| per entry (Å).
        Distances: float[]
        /// Verlet skin (Å, >= 0): the list holds every pair closer than Cutoff + Skin at build time, so it stays valid
        /// (every pair closer than Cutoff is in it) while no atom has moved more than Skin / 2 (`Neighbours.isCurrent`).
        Skin: float
        /// Positions at build time (3 per atom, Å): the reference of the staleness test.
        BuiltPositions: float[]
        /// Cell at build time (lattice vectors and periodicity).
        BuiltCell: Cell
    }

    /// Number of atoms.
    member nl.Count = nl.Start.Length - 1
    /// Number of entries (ordered pairs).
    member nl.Pairs = nl.Index.Length

/// Neighbour-list construction.
[<RequireQualifiedAccess>]
module Neighbours =

    /// Builds the list from per-atom buckets of (j, vector) pairs (internal helper shared by the builders).
    let internal ofBuckets (cutoff: float) (config: Configuration) (buckets: ResizeArray<struct (int * Vec3)>[]) =
        let n = buckets.Length
        let start = Array.zeroCreate (n + 1)

        for i in 0 .. n - 1 do
            start.[i + 1] <- start.[i] + buckets.[i].Count

        let m = start.[n]
        let index = Array.zeroCreate m
        let vectors = Array.zeroCreate (3 * m)
        let dist = Array.zeroCreate m

        for i in 0 .. n - 1 do
            let mutable k = start.[i]

            for struct (j, v) in buckets.[i] do
                index.[k] <- j
                Vec3.set vectors k v
                dist.[k] <- Vec3.norm v
                k <- k + 1

        { Cutoff = cutoff
          Start = start
          Index = index
          Vectors = vectors
          Distances = dist
          Skin = 0.0
          BuiltPositions = Array.copy config.Positions
          BuiltCell = config.Cell }

    /// Range of image shifts along each axis needed to see every pair within `cutoff` (0 on open axes).
    let internal imageRange (cell: Cell) (cutoff: float) =
        Array.init 3 (fun i ->
            if cell.Pbc.[i] then
                int (Math.Ceiling(cutoff / Cell.height cell i))
            else
                0)

    /// The slow, obviously correct O(N^2 x images) neighbour list: the oracle for the fast cell-list builder.
    /// Entries of each atom are ordered by (j, image shift) lexicographically.
    let reference (cutoff: float) (config: Configuration) : NeighbourList =
        Validate.positive "cutoff" cutoff
        let n = config.Count
        let x = config.Positions
        let range = imageRange config.Cell cutoff
        let a = Array.init 3 (Cell.vector config.Cell)
        let buckets = Array.init n (fun _ -> ResizeArray())
        let c2 = cutoff * cutoff

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

                                if Vec3.dot v v < c2 then
                                    buckets.[i].Add(struct (j, v))

        ofBuckets cutoff config buckets

    /// Raises `ArgumentException` unless positions hold 3 finite floats per atom (naming the first bad atom) and the
    /// cell vectors are finite.
    let internal validate (config: Configuration) =
        let x = config.Positions
        let n = config.Count

        if x.Length <> 3 * n then
            invalidArg "config" (sprintf "Positions has %d entries, expected 3 per atom for %d atoms" x.Length n)

        for i in 0 .. n - 1 do
            for k in 0..2 do
                let v = x.[3 * i + k]

                if Double.IsNaN v || Double.IsInfinity v then
                    invalidArg
                        "config"
                        (sprintf "position of atom %d (%c component) must be finite, got %g" i "xyz".[k] v)

        Validate.length "config.Cell.Vectors" 9 config.Cell.Vectors
        Validate.length "config.Cell.Pbc" 3 config.Cell.Pbc
        Validate.allFinite "config.Cell.Vectors" config.Cell.Vectors

    /// The binning frame: the periodic cell vectors, completed by unit vectors orthogonal to them on open axes
    /// (Cartesian axes for a cluster). Raises when the periodic vectors are degenerate.
    let internal frame (cell: Cell) : Vec3[] =
        let a = Array.init 3 (Cell.vector cell)
        let per = cell.Pbc
        let periodic = [| 0..2 |] |> Array.filter (fun i -> per.[i])
        let scale = periodic |> Array.fold (fun s i -> max s (Vec3.norm a.[i])) 0.0
        let f = Array.copy a

        let degenerate () =
            invalidArg
                "config"
                (sprintf
                    "the periodic cell vectors %s are degenerate"
                    (String.Join(", ", periodic |> Array.map (fun i -> string a.[i]))))

        match periodic.Length with
        | 0 ->
            f.[0] <- Vec3(1.0, 0.0, 0.0)
            f.[1] <- Vec3(0.0, 1.0, 0.0)
            f.[2] <- Vec3(0.0, 0.0, 1.0)
        | 1 ->
            let p = periodic.[0]

            if not (scale > 0.0) then
                degenerate ()

            let u = Vec3.normalize a.[p]
            // the Cartesian axis least aligned with u, made orthogonal to it
            let e =
                if abs u.X <= abs u.Y && abs u.X <= abs u.Z then
                    Vec3(1.0, 0.0, 0.0)
                elif abs u.Y <= abs u.Z then
                    Vec3(0.0, 1.0, 0.0)
                else
                    Vec3(0.0, 0.0, 1.0)

            let f1 = Vec3.normalize (e - Vec3.dot e u * u)
            let f2 = Vec3.cross u f1
            let opens = [| 0..2 |] |> Array.filter (fun i -> i <> p)
            f.[opens.[0]] <- f1
            f.[opens.[1]] <- f2
        | 2 ->
            let c = Vec3.cross a.[periodic.[0]] a.[periodic.[1]]

            if not (Vec3.norm c > 1e-12 * scale * scale) then
                degenerate ()

            let o = [| 0..2 |] |> Array.find (fun i -> not per.[i])
            f.[o] <- Vec3.normalize c
        | _ ->
            if not (abs (Cell.volume cell) > 1e-12 * scale * scale * scale) then
                degenerate ()

        f

    /// Atoms sorted into cell-list bins (internal; made by `binAtoms`, shared by `build` and `closestPair`). Bin
    /// coordinates run over 0 .. Nb[k]-1 per axis; slots q = 0 .. N-1 hold the atoms bin after bin, in ascending atom
    /// index within a bin. The per-axis tables are indexed by u = c + M[k] for an unwrapped bin coordinate c in
    /// -M[k] .. Nb[k]+M[k]-1, so the bins around bin coordinate b are u = b .. b + 2 M[k].
    [<NoComparison; NoEquality>]
    type internal Bins =
        {
            /// Cell vectors a1, a2, a3: the integer image shift s stands for s0 a1 + s1 a2 + s2 a3.
            A: Vec3[]
            /// Bins per axis.
            Nb: int[]
            /// Bin offsets -M[k] .. M[k] visited per axis.
            M: int[]
            /// First slot of every bin, length (number of bins) + 1.
            Start: int[]
            /// Atom in every slot.
            Atoms: int[]
            /// Given positions, 3 per slot.
            X: float[]
            /// Integer wraps along periodic axes (0 on open axes), 3 per slot.
            Wrap: int[]
            /// Per axis and u: the bin coordinate c wraps to (-1 outside the bins of an open axis).
            Wrapped: int[][]
            /// Per axis and u: the image shift floor(c / Nb[k]) (0 on open axes).
            Shift: int[][]
        }

    /// The image vector s0 a1 + s1 a2 + s2 a3, with exactly the floating-point operations of `reference`.
    let inline private shiftVector (a0: Vec3) (a1: Vec3) (a2: Vec3) (s0: int) (s1: int) (s2: int) =
        float s0 * a0 + float s1 * a1 + float s2 * a2

    /// Floor division for a positive divisor.
    let inline private floorDiv (c: int) (d: int) =
        if c >= 0 then c / d else -((-c - 1) / d) - 1

    /// Bins `config` (validated by the caller) for a search within `cutoff`: bins at least cutoff / `subdivide` wide
    /// perpendicular to each pair of frame vectors (see `frame`), at most max(27, 2N) of them, by one counting sort.
    let internal binAtoms (cutoff: float) (subdivide: int) (config: Configuration) : Bins =
        let n = config.Count
        let x = config.Positions
        let cell = config.Cell
        let per = cell.Pbc
        let a = Array.init 3 (Cell.vector cell)
        let f = frame cell
        let det = Vec3.dot f.[0] (Vec3.cross f.[1] f.[2])
        // reciprocal rows b_i (f_i . b_j = delta_ij): fractional coordinate s_i = b_i . x
        let b =
            [| (1.0 / det) * Vec3.cross f.[1] f.[2]
               (1.0 / det) * Vec3.cross f.[2] f.[0]
               (1.0 / det) * Vec3.cross f.[0] f.[1] |]

        let height = Array.init 3 (fun i -> 1.0 / Vec3.norm b.[i])
        let wrapOf = Array.zeroCreate (3 * n)
        let coord = Array.zeroCreate (3 * n)
        let lo = Array.zeroCreate 3
        let len = Array.create 3 1.0

        for k in 0..2 do
            let bk = b.[k]
            let mutable mn = Double.PositiveInfinity
            let mutable mx = Double.NegativeInfinity

            for i in 0 .. n - 1 do
                let s = Vec3.dot bk (Vec3.get x i)

                if per.[k] then
                    let w = Math.Floor s

                    if abs w > 1e9 then
                        invalidArg
                            "config"
                            (sprintf
                                "atom %d lies %g cell periods outside the periodic cell along axis %d; wrap it first"
                                i
                                w
                                k)

                    wrapOf.[3 * i + k] <- int w
                    coord.[3 * i + k] <- s - w
                else
                    coord.[3 * i + k] <- s
                    mn <- min mn s
                    mx <- max mx s

            if not per.[k] && n > 0 then
                lo.[k] <- mn
                len.[k] <- mx - mn

        let nb =
            Array.init 3 (fun k ->
                let cells = len.[k] * height.[k] * float subdivide / (cutoff * (1.0 + 1e-8))
                int (max 1.0 (min 1e6 (Math.Floor cells))))

        // keep the number of bins O(N) even for sparse, spread-out clusters
        let limit = max 27L (2L * int64 n)

        while int64 nb.[0] * int64 nb.[1] * int64 nb.[2] > limit do
            let k =
                if nb.[0] >= nb.[1] && nb.[0] >= nb.[2] then 0
                elif nb.[1] >= nb.[2] then 1
                else 2

            nb.[k] <- (nb.[k] + 1) / 2

        let width =
            Array.init 3 (fun k -> if len.[k] > 0.0 then len.[k] / float nb.[k] else 1.0)

        // bin offsets to visit: enough that (m - 1) bins separate atoms by less than the cutoff; an open axis has
        // nothing beyond its nb bins
        let m =
            Array.init 3 (fun k ->
                let reach =
                    max 1 (int (Math.Ceiling(cutoff * (1.0 + 1e-9) / (width.[k] * height.[k]))))

                if per.[k] then reach else min reach (nb.[k] - 1))

        let nbins = nb.[0] * nb.[1] * nb.[2]
        let binOf = Array.zeroCreate 3
        let ids = Array.zeroCreate n
        let start = Array.zeroCreate (nbins + 1)

        for i in 0 .. n - 1 do
            for k in 0..2 do
                let c = int (Math.Floor((coord.[3 * i + k] - lo.[k]) / width.[k]))
                binOf.[k] <- max 0 (min (nb.[k] - 1) c)

            let id = (binOf.[0] * nb.[1] + binOf.[1]) * nb.[2] + binOf.[2]
            ids.[i] <- id
            start.[id + 1] <- start.[id + 1] + 1

        for id in 0 .. nbins - 1 do
            start.[id + 1] <- start.[id + 1] + start.[id]

        let atoms = Array.zeroCreate n
        let next = Array.copy start

        for i in 0 .. n - 1 do
            let q = next.[ids.[i]]
            atoms.[q] <- i
            next.[ids.[i]] <- q + 1

        let xs = Array.zeroCreate (3 * n)
        let wraps = Array.zeroCreate (3 * n)

        for q in 0 .. n - 1 do
            let j = atoms.[q]
            let w0, w1, w2 = wrapOf.[3 * j], wrapOf.[3 * j + 1], wrapOf.[3 * j + 2]
            Vec3.set xs q (Vec3.get x j)
            wraps.[3 * q] <- w0
            wraps.[3 * q + 1] <- w1
            wraps.[3 * q + 2] <- w2

        let size k = nb.[k] + 2 * m.[k]

        let wrapped =
            Array.init 3 (fun k ->
                Array.init (size k) (fun u ->
                    let c = u - m.[k]

                    if per.[k] then c - floorDiv c nb.[k] * nb.[k]
                    elif c >= 0 && c < nb.[k] then c
                    else -1))

        let shift =
            Array.init 3 (fun k -> Array.init (size k) (fun u -> if per.[k] then floorDiv (u - m.[k]) nb.[k] else 0))

        { A = a
          Nb = nb
          M = m
          Start = start
          Atoms = atoms
          X = xs
          Wrap = wraps
          Wrapped = wrapped
          Shift = shift }

    /// Scratch of one part of the search (internal): the neighbourhood of one bin, i.e. every atom of the neighbouring
    /// bins with the image shift of its visit, as seen by an atom of the bin whose wrap is 0. The image arrays are
    /// padded with +∞ to a multiple of the SIMD width.
    [<NoComparison; NoEquality>]
    type internal Hood =
        {
            /// Number of entries.
            mutable Count: int
            /// Neighbour atom j of each entry.
            mutable J: int[]
            /// Image shift t of each entry for an atom i with wrap 0 (3 per entry; add wrap_i otherwise).
            mutable T: int[]
            /// x_j + t·A, the exact image of j (as in `reference`) for an atom i with wrap 0.
            mutable Ex: float[]
            /// y component of the image.
            mutable Ey: float[]
            /// z component of the image.
            mutable Ez: float[]
            /// Sort keys (j - min j, visit order) and their radix-sort buffer.
            mutable Key: int64[]
            /// Radix-sort buffer.
            mutable Key2: int64[]
            /// Radix-sort histogram (256 buckets).
            Hist: int[]
            /// Entries of the current row within the cutoff (scratch of `scanRow`).
            mutable Sel: int[]
            /// Second set of arrays, swapped in by the sort.
            mutable J2: int[]
            /// Second set of arrays, swapped in by the sort.
            mutable T2: int[]
            /// Second set of arrays, swapped in by the sort.
            mutable Ex2: float[]
            /// Second set of arrays, swapped in by the sort.
            mutable Ey2: float[]
            /// Second set of arrays, swapped in by the sort.
            mutable Ez2: float[]
        }

    /// SIMD width (doubles per Vector256).
    let private lanes = 4

    /// An empty neighbourhood with room for `capacity` entries (plus padding).
    let internal newHood (capacity: int) =
        let c = max 16 capacity + lanes

        { Count = 0
          J = Array.zeroCreate c
          T = Array.zeroCreate (3 * c)
          Ex = Array.zeroCreate c
          Ey = Array.zeroCreate c
          Ez = Array.zeroCreate c
          Key = Array.zeroCreate c
          Key2 = Array.zeroCreate c
          Hist = Array.zeroCreate 256
          Sel = Array.zeroCreate c
          J2 = Array.zeroCreate c
          T2 = Array.zeroCreate (3 * c)
          Ex2 = Array.zeroCreate c
          Ey2 = Array.zeroCreate c
          Ez2 = Array.zeroCreate c }

    /// Pads the images after the last entry with +∞ (never within the cutoff) up to the next multiple of `lanes`.
    let private pad (hood: Hood) =
        for e in hood.Count .. hood.Count + lanes - 1 do
            hood.Ex.[e] <- Double.PositiveInfinity
            hood.Ey.[e] <- Double.PositiveInfinity
            hood.Ez.[e] <- Double.PositiveInfinity

    /// Fills `hood` with the neighbourhood of `bin`: the atoms of the bins around it, visited in ascending bin order
    /// (so one atom seen through several images comes with ascending image shifts), ascending atom order within a
    /// bin. Returns the number of entries.
    let internal gather (bins: Bins) (bin: int) (hood: Hood) : int =
        let nb1, nb2 = bins.Nb.[1], bins.Nb.[2]
        let m0, m1, m2 = bins.M.[0], bins.M.[1], bins.M.[2]
        let wr0, wr1, wr2 = bins.Wrapped.[0], bins.Wrapped.[1], bins.Wrapped.[2]
        let sh0, sh1, sh2 = bins.Shift.[0], bins.Shift.[1], bins.Shift.[2]
        let a0, a1, a2 = bins.A.[0], bins.A.[1], bins.A.[2]
        let start = bins.Start
        let atoms = bins.Atoms
        let xs = bins.X
        let wrap = bins.Wrap
        let b0 = bin / (nb1 * nb2)
        let b1 = (bin / nb2) % nb1
        let b2 = bin % nb2
        // size first, so the arrays grow at most once
        let mutable size = 0

        for u0 in b0 .. b0 + 2 * m0 do
            if wr0.[u0] >= 0 then
                for u1 in b1 .. b1 + 2 * m1 do
                    if wr1.[u1] >= 0 then
                        for u2 in b2 .. b2 + 2 * m2 do
                            if wr2.[u2] >= 0 then
                                let id = (wr0.[u0] * nb1 + wr1.[u1]) * nb2 + wr2.[u2]
                                size <- size + start.[id + 1] - start.[id]

        if size + lanes > hood.J.Length then
            let fresh = newHood (size + size / 4)
            hood.J <- fresh.J
            hood.T <- fresh.T
            hood.Ex <- fresh.Ex
            hood.Ey <- fresh.Ey
            hood.Ez <- fresh.Ez
            hood.Key <- fresh.Key
            hood.Key2 <- fresh.Key2
            hood.Sel <- fresh.Sel
            hood.J2 <- fresh.J2
            hood.T2 <- fresh.T2
            hood.Ex2 <- fresh.Ex2
            hood.Ey2 <- fresh.Ey2
            hood.Ez2 <- fresh.Ez2

        let js = hood.J
        let ts = hood.T
        let ex = hood.Ex
        let ey = hood.Ey
        let ez = hood.Ez
        let mutable count = 0
        let mutable c0 = Int32.MinValue
        let mutable c1 = 0
        let mutable c2 = 0
        let mutable sx = 0.0
        let mutable sy = 0.0
        let mutable sz = 0.0

        for u0 in b0 .. b0 + 2 * m0 do
            let w0 = wr0.[u0]

            if w0 >= 0 then
                for u1 in b1 .. b1 + 2 * m1 do
                    let w1 = wr1.[u1]

                    if w1 >= 0 then
                        for u2 in b2 .. b2 + 2 * m2 do
                            let w2 = wr2.[u2]

                            if w2 >= 0 then
                                let id = (w0 * nb1 + w1) * nb2 + w2

                                for q in start.[id] .. start.[id + 1] - 1 do
                                    let t0 = sh0.[u0] - wrap.[3 * q]
                                    let t1 = sh1.[u1] - wrap.[3 * q + 1]
                                    let t2 = sh2.[u2] - wrap.[3 * q + 2]

                                    if t0 <> c0 || t1 <> c1 || t2 <> c2 then
                                        let s = shiftVector a0 a1 a2 t0 t1 t2
                                        sx <- s.X
                                        sy <- s.Y
                                        sz <- s.Z
                                        c0 <- t0
                                        c1 <- t1
                                        c2 <- t2

                                    js.[count] <- atoms.[q]
                                    ts.[3 * count] <- t0
                                    ts.[3 * count + 1] <- t1
                                    ts.[3 * count + 2] <- t2
                                    ex.[count] <- xs.[3 * q] + sx
                                    ey.[count] <- xs.[3 * q + 1] + sy
                                    ez.[count] <- xs.[3 * q + 2] + sz
                                    count <- count + 1

        hood.Count <- count
        pad hood
        count

    /// Sorts the entries of `hood` stably by j (a least-significant-digit radix sort on j - min j, 8 bits a pass),
    /// which leaves one atom's images in visit order, i.e. by ascending image shift: the row order of `reference`.
    let internal sortHood (hood: Hood) =
        let count = hood.Count
        let js = hood.J
        let mutable lo = Int32.MaxValue
        let mutable hi = Int32.MinValue
        let mutable sorted = true

        for e in 0 .. count - 1 do
            let j = js.[e]
            lo <- min lo j
            hi <- max hi j

            if e > 0 && j < js.[e - 1] then
                sorted <- false

        if not sorted then
            let mutable src = hood.Key
            let mutable dst = hood.Key2
            let hist = hood.Hist

            for e in 0 .. count - 1 do
                src.[e] <- (int64 (js.[e] - lo) <<< 32) ||| int64 e

            let range = int64 hi - int64 lo
            let mutable shift = 32

            while (range >>> (shift - 32)) > 0L do
                Array.Clear hist

                for e in 0 .. count - 1 do
                    let d = int ((src.[e] >>> shift) &&& 255L)
                    hist.[d] <- hist.[d] + 1

                let mutable sum = 0

                for d in 0..255 do
                    let c = hist.[d]
                    hist.[d] <- sum
                    sum <- sum + c

                for e in 0 .. count - 1 do
                    let d = int ((src.[e] >>> shift) &&& 255L)
                    dst.[hist.[d]] <- src.[e]
                    hist.[d] <- hist.[d] + 1

                let swap = src
                src <- dst
                dst <- swap
                shift <- shift + 8

            let j2 = hood.J2
            let t2 = hood.T2
            let ex2 = hood.Ex2
            let ey2 = hood.Ey2
            let ez2 = hood.Ez2
            let ts = hood.T
            let ex = hood.Ex
            let ey = hood.Ey
            let ez = hood.Ez

            for e in 0 .. count - 1 do
                let k = int (src.[e] &&& 0xFFFFFFFFL)
                j2.[e] <- js.[k]
                t2.[3 * e] <- ts.[3 * k]
                t2.[3 * e + 1] <- ts.[3 * k + 1]
                t2.[3 * e + 2] <- ts.[3 * k + 2]
                ex2.[e] <- ex.[k]
                ey2.[e] <- ey.[k]
                ez2.[e] <- ez.[k]

            hood.J2 <- js
            hood.T2 <- ts
            hood.Ex2 <- ex
            hood.Ey2 <- ey
            hood.Ez2 <- ez
            hood.J <- j2
            hood.T <- t2
            hood.Ex <- ex2
            hood.Ey <- ey2
            hood.Ez <- ez2
            pad hood

    /// Scans the neighbourhood for the atom in slot p (atom i): with `write` false returns the number of entries of
    /// row i; with `write` true also stores them at index/vectors/dist from position `at` on, in neighbourhood order.
    /// The test is the exact one of `reference`: |(y_j + t·A) − y_i|² < cutoff², excluding i itself (t = 0); SIMD
    /// lanes compute the same IEEE operations as the scalar code.
    let internal scanRow
        (bins: Bins)
        (x: float[])
        (c2: float)
        (hood: Hood)
        (p: int)
        (write: bool)
        (at: int)
        (index: int[])
        (vectors: float[])
        (dist: float[])
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
            // the images are those of the neighbourhood
            let ex = hood.Ex
            let ey = hood.Ey
            let ez = hood.Ez
            let c2v = Vector256.Create(c2: float)
            let xv = Vector256.Create(xix: float)
            let yv = Vector256.Create(xiy: float)
            let zv = Vector256.Create(xiz: float)
            let mutable e = 0

            if not write then
                let mutable found = 0

                while e < count do
                    let vx = Vector256.LoadUnsafe(&ex.[e]) - xv
                    let vy = Vector256.LoadUnsafe(&ey.[e]) - yv
                    let vz = Vector256.LoadUnsafe(&ez.[e]) - zv
                    let d2 = vx * vx + vy * vy + vz * vz
                    let mask = Vector256.ExtractMostSignificantBits(Vector256.LessThan(d2, c2v))
                    found <- found + System.Numerics.BitOperations.PopCount mask
                    e <- e + lanes

                // i itself (t = 0, vector 0) is in its own neighbourhood and was counted
                k <- at + found - 1
            else
                // branch-free compaction of the entries within the cutoff into Sel, then one predictable pass
                let sel = hood.Sel
                let mutable found = 0

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

                for s in 0 .. found - 1 do
                    let f = sel.[s]

                    if js.[f] <> i || ts.[3 * f] <> 0 || ts.[3 * f + 1] <> 0 || ts.[3 * f + 2] <> 0 then
                        let vx = ex.[f] - xix
                        let vy = ey.[f] - xiy
                        let vz = ez.[f] - xiz
                        index.[k] <- js.[f]
                        vectors.[3 * k] <- vx
                        vectors.[3 * k + 1] <- vy
                        vectors.[3 * k + 2] <- vz
                        dist.[k] <- vx * vx + vy * vy + vz * vz
                        k <- k + 1

                // distances: square roots of the squares stored above, four at a time
                let mutable r = at

                while r + lanes <= k do
                    Vector256.StoreUnsafe(Vector256.Sqrt(Vector256.LoadUnsafe(&dist.[r])), &dist.[r])
                    r <- r + lanes

                while r < k do
                    dist.[r] <- Math.Sqrt dist.[r]
                    r <- r + 1
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

                if d2 < c2 && (j <> i || t0 <> 0 || t1 <> 0 || t2 <> 0) then
                    if write then
                        index.[k] <- j
                        vectors.[3 * k] <- vx
                        vectors.[3 * k + 1] <- vy
                        vectors.[3 * k + 2] <- vz
                        dist.[k] <- Math.Sqrt d2

                    k <- k + 1

        k - at

    /// Pass 1 of `build` over bins binLo .. binHi-1: stores the row length of every atom of these bins in counts
    /// and returns the number of candidate pairs tested.
    let internal countRows (bins: Bins) (x: float[]) (cutoff: float) (binLo: int) (binHi: int) (counts: int[]) =
        let c2 = cutoff * cutoff
        let hood = newHood 1024
        let mutable candidates = 0L

        for bin in binLo .. binHi - 1 do
            let p0 = bins.Start.[bin]
            let p1 = bins.Start.[bin + 1]

            if p1 > p0 then
                let size = gather bins bin hood
                candidates <- candidates + int64 (p1 - p0) * int64 size

                for p in p0 .. p1 - 1 do
                    counts.[bins.Atoms.[p]] <- scanRow bins x c2 hood p false 0 Array.empty Array.empty Array.empty

        candidates

    /// Pass 2 of `build` over bins binLo .. binHi-1: writes the row of every atom i of these bins at start[i], in the
    /// order of the sorted neighbourhood (by j, then image shift). Returns false if a row length differs from pass 1.
    let internal fillRows
        (bins: Bins)
        (x: float[])
        (cutoff: float)
        (binLo: int)
        (binHi: int)
        (start: int[])
        (index: int[])
        (vectors: float[])
        (dist: float[])
        : bool =
        let c2 = cutoff * cutoff
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
                        scanRow bins x c2 hood p true start.[i] index vectors dist
                        <> start.[i + 1] - start.[i]
                    then
                        ok <- false

        ok

    /// Bin width as a fraction of the cutoff is 1 / `subdivide` (1 measured fastest: a bin's sorted neighbourhood is
    /// then shared by the most atoms).
    let private subdivide = 1

    /// Runs body(p) for p = 0 .. parts-1, on up to `threads` threads.
    let private forParts (parts: int) (threads: int) (body: int -> unit) =
        if parts = 1 || threads = 1 then
            for p in 0 .. parts - 1 do
                body p
        else
            Threading.Tasks.Parallel.For(
                0,
                parts,
                Threading.Tasks.ParallelOptions(MaxDegreeOfParallelism = threads),
                Action<int> body
            )
            |> ignore

    /// Number of parts for N atoms on `threads` threads: 1 below 4096 atoms (or on one thread), else 4 per thread, so
    /// that a thread slowed down (by a loaded machine) holds up less of the work.
    let private partsFor (n: int) (threads: int) =
        if n < 4096 || threads = 1 then
            1
        else
            min (4 * threads) (n / 1024)

    /// Bin ranges with about N / parts atoms each: part p covers bins result[p] .. result[p+1]-1.
    let private binRanges (bins: Bins) (parts: int) =
        let n = bins.Atoms.Length
        let nbins = bins.Start.Length - 1
        let r = Array.zeroCreate (parts + 1)
        let mutable id = 0

        for p in 1 .. parts - 1 do
            let target = int (int64 n * int64 p / int64 parts)

            while id < nbins && bins.Start.[id] < target do
                id <- id + 1

            r.[p] <- id

        r.[parts] <- nbins
        r

    /// The two-pass search behind `build`: `parts` contiguous ranges of bins (about N / parts atoms each) run on up to
    /// `threads` threads; the result does not depend on either. Pass 1 counts the entries of every row, pass 2 writes
    /// every row in place. Returns the list and the number of candidate pairs tested in pass 1 (the work, linear in N
    /// for a bounded density).
    let internal buildParts
        (parts: int)
        (threads: int)
        (cutoff: float)
        (config: Configuration)
        : NeighbourList * int64 =
        Validate.positive "cutoff" cutoff
        Validate.finite "cutoff" cutoff
        validate config
        let n = config.Count
        let x = config.Positions
        let bins = binAtoms cutoff subdivide config
        let parts = max 1 (min parts n)
        let ranges = binRanges bins parts
        let counts = Array.zeroCreate n
        let work = Array.zeroCreate parts
        forParts parts threads (fun p -> work.[p] <- countRows bins x cutoff ranges.[p] ranges.[p + 1] counts)
        let start = Array.zeroCreate (n + 1)

        for i in 0 .. n - 1 do
            start.[i + 1] <- start.[i] + counts.[i]

        let total = start.[n]
        // every entry is written by pass 2 (checked below), so the arrays need not be zeroed first
        let index = GC.AllocateUninitializedArray<int> total
        let vectors = GC.AllocateUninitializedArray<float>(3 * total)
        let dist = GC.AllocateUninitializedArray<float> total
        let ok = Array.zeroCreate parts

        forParts parts threads (fun p ->
            ok.[p] <- fillRows bins x cutoff ranges.[p] ranges.[p + 1] start index vectors dist)

        if not (Array.forall (fun good -> good) ok) then
            raise (InvalidOperationException "Neighbours.build: the counting and filling passes disagree (a bug)")

        { Cutoff = cutoff
          Start = start
          Index = index
          Vectors = vectors
          Distances = dist
          Skin = 0.0
          BuiltPositions = Array.copy config.Positions
          BuiltCell = config.Cell },
        Array.sum work

    /// `buildParts` for tests: `chunks` > 0 fixes the number of parts (and threads); 0 chooses as `build` does.
    let internal buildChunked (chunks: int) (cutoff: float) (config: Configuration) : NeighbourList * int64 =
        if chunks > 0 then
            buildParts chunks chunks cutoff config
        else
            let threads = Environment.ProcessorCount
            buildParts (partsFor config.Count threads) threads cutoff config

    /// The full neighbour list of `config` within `cutoff` (Å) by cell lists, in O(N) time for a bounded density,
    /// on up to `threads` threads (>= 1); the result does not depend on the number of threads. Atoms are binned by
    /// their fractional coordinates in a frame made of the periodic cell vectors (completed by orthonormal directions
    /// on open axes; a cluster uses the bounding box of its positions in Cartesian axes), with bins at least `cutoff`
    /// wide; periodic axes are wrapped (atoms outside the cell are binned at their wrapped position but keep their true
    /// vectors), open axes are not. When the cutoff exceeds the cell height along a periodic axis, several images are
    /// visited. A first pass counts the entries of every row; a second writes every row in place: the atoms of one
    /// bin share its neighbourhood (the atoms of the surrounding bins with their images), sorted once by (j, image
    /// shift), which each of them scans with 4-wide SIMD distance tests. Rows are thus sorted by (j, s1, s2, s3), with
    /// s the integer image shift of the entry relative to the given positions (vector = y_j + s·A − y_i): the same
    /// entries, bit for bit, in the same order as `reference`. Raises `ArgumentException` for threads < 1, a
    /// non-positive cutoff, a NaN/∞ position (naming the atom), an atom more than 10^9 periods outside the cell, or
    /// degenerate periodic cell vectors.
    let buildWith (threads: int) (cutoff: float) (config: Configuration) : NeighbourList =
        Validate.intInRange "threads" 1 Int32.MaxValue threads
        fst (buildParts (partsFor config.Count threads) threads cutoff config)

    /// `buildWith` on all cores (`Environment.ProcessorCount` threads): the full neighbour list of `config` within
    /// `cutoff` (Å), rows sorted by (j, image shift) exactly as `reference`.
    let build (cutoff: float) (config: Configuration) : NeighbourList =
        buildWith Environment.ProcessorCount cutoff config

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
    let closestPair (config: Configuration) : struct (int * int * float) =
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

    /// The vector y_j + shift − y_i (Å) of entry k of row i, for the positions `x` of the configuration the list is
    /// current for (`isCurrent`). Read neighbour vectors only through this function: the stored representation may
    /// change (indices and image shifts with vectors computed from current positions).
    let inline vector (nl: NeighbourList) (x: float[]) (i: int) (k: int) : Vec3 =
        ignore x
        ignore i
        Vec3(nl.Vectors.[3 * k], nl.Vectors.[3 * k + 1], nl.Vectors.[3 * k + 2])
