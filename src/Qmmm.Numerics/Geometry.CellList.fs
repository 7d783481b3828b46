namespace Qmmm.Numerics

open System
open System.Runtime.Intrinsics

/// Cell lists (internal): atoms sorted into bins of a frame made of the periodic cell vectors, and the neighbourhood
/// of a bin (the atoms of the surrounding bins with their image shifts) that the neighbour-list builder and the
/// closest-pair search scan. Shared machinery, one concept: binning.
module internal CellList =

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
    let inline shiftVector (a0: Vec3) (a1: Vec3) (a2: Vec3) (s0: int) (s1: int) (s2: int) =
        float s0 * a0 + float s1 * a1 + float s2 * a2

    /// Largest number of cell periods an atom may lie outside a periodic cell: image shifts relative to the given
    /// positions (at most 2 maxWrap + the search's own reach) must fit a packed `ImageShift`.
    [<Literal>]
    let maxWrap = 200

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

                    if abs w > float maxWrap then
                        invalidArg
                            "config"
                            (sprintf
                                "atom %d lies %g cell periods outside the periodic cell along axis %d (at most %d supported); wrap the positions into the cell first"
                                i
                                w
                                k
                                maxWrap)

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
                    // clamped before the conversion: an absurdly thin cell is refused below, never wrapped around
                    max 1 (int (min 1e7 (Math.Ceiling(cutoff * (1.0 + 1e-9) / (width.[k] * height.[k])))))

                if per.[k] then reach else min reach (nb.[k] - 1))

        for k in 0..2 do
            if per.[k] then
                let reach = (m.[k] + nb.[k] - 1) / nb.[k] + 1

                if reach + 2 * maxWrap > ImageShift.Limit then
                    invalidArg
                        "config"
                        (sprintf
                            "the cutoff %g Å spans %d periods of the cell along axis %d (height %g Å; at most %d supported): the cell is too thin for this cutoff"
                            cutoff
                            reach
                            k
                            height.[k]
                            (ImageShift.Limit - 2 * maxWrap))

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
    let lanes = 4

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

    /// Runs body(p) for p = 0 .. parts-1, on up to `threads` threads.
    let forParts (parts: int) (threads: int) (body: int -> unit) =
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
    let partsFor (n: int) (threads: int) =
        if n < 4096 || threads = 1 then
            1
        else
            min (4 * threads) (n / 1024)

    /// Bin ranges with about N / parts atoms each: part p covers bins result[p] .. result[p+1]-1.
    let binRanges (bins: Bins) (parts: int) =
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
