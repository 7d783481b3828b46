namespace Qmmm.Numerics

open System

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
    }

    /// Number of atoms.
    member nl.Count = nl.Start.Length - 1
    /// Number of entries (ordered pairs).
    member nl.Pairs = nl.Index.Length

/// Neighbour-list construction.
[<RequireQualifiedAccess>]
module Neighbours =

    /// Builds the list from per-atom buckets of (j, vector) pairs (internal helper shared by the builders).
    let internal ofBuckets (cutoff: float) (buckets: ResizeArray<struct (int * Vec3)>[]) =
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
          Distances = dist }

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

        ofBuckets cutoff buckets

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

    /// The cell-list search shared by `build` and its tests: returns the list and the number of candidate pairs whose
    /// distance was tested (the work, linear in N for a bounded density). `chunks` > 0 fixes the number of contiguous
    /// atom ranges searched in parallel (tests); 0 chooses it (1 below 4096 atoms).
    let internal buildChunked (chunks: int) (cutoff: float) (config: Configuration) : NeighbourList * int64 =
        Validate.positive "cutoff" cutoff
        Validate.finite "cutoff" cutoff
        validate config
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
        // per atom: bin coordinates and wrap integers (s = wrap + fractional part on periodic axes)
        let bin = Array.zeroCreate (3 * n)
        let wrap = Array.zeroCreate (3 * n)
        let coord = Array.zeroCreate (3 * n)
        let lo = Array.zeroCreate 3
        let len = Array.create 3 1.0

        for k in 0..2 do
            let mutable mn = Double.PositiveInfinity
            let mutable mx = Double.NegativeInfinity

            for i in 0 .. n - 1 do
                let s = Vec3.dot b.[k] (Vec3.get x i)

                if per.[k] then
                    let w = Math.Floor s
                    wrap.[3 * i + k] <- int w
                    coord.[3 * i + k] <- s - w
                else
                    coord.[3 * i + k] <- s
                    mn <- min mn s
                    mx <- max mx s

            if not per.[k] && n > 0 then
                lo.[k] <- mn
                len.[k] <- mx - mn

        // bins at least `cutoff` (plus a margin against rounding) wide perpendicular to each pair of frame vectors
        let nb =
            Array.init 3 (fun k ->
                let cells = len.[k] * height.[k] / (cutoff * (1.0 + 1e-8))
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
        // bin offsets to visit: enough that (m - 1) bins separate atoms by less than the cutoff
        let m =
            Array.init 3 (fun k ->
                if per.[k] then
                    max 1 (int (Math.Ceiling(cutoff * (1.0 + 1e-9) / (width.[k] * height.[k]))))
                else
                    1)

        for i in 0 .. n - 1 do
            for k in 0..2 do
                let c = int (Math.Floor((coord.[3 * i + k] - lo.[k]) / width.[k]))
                bin.[3 * i + k] <- max 0 (min (nb.[k] - 1) c)

        let nbins = nb.[0] * nb.[1] * nb.[2]
        let binStart = Array.zeroCreate (nbins + 1)
        let binOf = Array.zeroCreate n

        for i in 0 .. n - 1 do
            let id = (bin.[3 * i] * nb.[1] + bin.[3 * i + 1]) * nb.[2] + bin.[3 * i + 2]
            binOf.[i] <- id
            binStart.[id + 1] <- binStart.[id + 1] + 1

        for id in 0 .. nbins - 1 do
            binStart.[id + 1] <- binStart.[id + 1] + binStart.[id]

        let binAtoms = Array.zeroCreate n
        let fill = Array.copy binStart

        for i in 0 .. n - 1 do
            binAtoms.[fill.[binOf.[i]]] <- i
            fill.[binOf.[i]] <- fill.[binOf.[i]] + 1

        // atoms in bin order with their wrapped positions (y - wrap·A), for a cheap, cache-friendly pre-filter
        let binX = Array.zeroCreate (3 * n)
        let binWrap = Array.zeroCreate (3 * n)

        for q in 0 .. n - 1 do
            let j = binAtoms.[q]

            let w =
                float wrap.[3 * j] * a.[0]
                + float wrap.[3 * j + 1] * a.[1]
                + float wrap.[3 * j + 2] * a.[2]

            Vec3.set binX q (Vec3.get x j - w)
            binWrap.[3 * q] <- wrap.[3 * j]
            binWrap.[3 * q + 1] <- wrap.[3 * j + 1]
            binWrap.[3 * q + 2] <- wrap.[3 * j + 2]

        // entries are encoded as one int64 key (j, s0, s1, s2) so each row sorts with a primitive sort
        let off = Array.zeroCreate 3

        for k in 0..2 do
            if per.[k] && n > 0 then
                let mutable wmin = Int32.MaxValue
                let mutable wmax = Int32.MinValue

                for i in 0 .. n - 1 do
                    wmin <- min wmin wrap.[3 * i + k]
                    wmax <- max wmax wrap.[3 * i + k]

                off.[k] <- m.[k] + (wmax - wmin)

        // bit fields: j in the high bits, then s0 + off0, s1 + off1, s2 + off2 (each non-negative)
        let bits (v: int64) =
            let mutable b = 1

            while (1L <<< b) <= v do
                b <- b + 1

            b

        let fb = Array.init 3 (fun k -> bits (2L * int64 off.[k]))
        let jb = bits (int64 (max n 1))

        if jb + fb.[0] + fb.[1] + fb.[2] > 63 then
            invalidArg "config" "atoms lie too far outside the periodic cell to index their images; wrap them first"

        let sh2b = 0
        let sh1b = fb.[2]
        let sh0b = fb.[2] + fb.[1]
        let jbit = fb.[2] + fb.[1] + fb.[0]
        let mask = Array.init 3 (fun k -> (1L <<< fb.[k]) - 1L)

        let c2 = cutoff * cutoff
        // the pre-filter distance differs from the exact one by rounding only; this margin keeps every candidate
        let loose = (cutoff * (1.0 + 1e-9) + 1e-12) * (cutoff * (1.0 + 1e-9) + 1e-12)
        let start = Array.zeroCreate (n + 1)

        let floorDiv (c: int) (d: int) =
            if c >= 0 then c / d else -((-c - 1) / d) - 1

        // Searches atoms lo .. hi - 1: writes each row length into start.[i + 1] and returns the sorted keys of the
        // rows (concatenated in atom order), their number and the number of candidates examined.
        let search (lo: int) (hi: int) =
            let mutable keys: int64[] = Array.zeroCreate (max 16 (24 * (hi - lo)))
            let mutable count = 0
            let mutable candidates = 0L

            for i in lo .. hi - 1 do
                let rowStart = count
                let xi = Vec3.get x i
                let wi0, wi1, wi2 = wrap.[3 * i], wrap.[3 * i + 1], wrap.[3 * i + 2]
                let xwi = xi - (float wi0 * a.[0] + float wi1 * a.[1] + float wi2 * a.[2])

                for d0 in -m.[0] .. m.[0] do
                    let c0 = bin.[3 * i] + d0

                    if per.[0] || (c0 >= 0 && c0 < nb.[0]) then
                        let sh0 = if per.[0] then floorDiv c0 nb.[0] else 0
                        let w0 = c0 - sh0 * nb.[0]

                        for d1 in -m.[1] .. m.[1] do
                            let c1 = bin.[3 * i + 1] + d1

                            if per.[1] || (c1 >= 0 && c1 < nb.[1]) then
                                let sh1 = if per.[1] then floorDiv c1 nb.[1] else 0
                                let w1 = c1 - sh1 * nb.[1]

                                for d2 in -m.[2] .. m.[2] do
                                    let c2i = bin.[3 * i + 2] + d2

                                    if per.[2] || (c2i >= 0 && c2i < nb.[2]) then
                                        let sh2 = if per.[2] then floorDiv c2i nb.[2] else 0
                                        let w2 = c2i - sh2 * nb.[2]
                                        let id = (w0 * nb.[1] + w1) * nb.[2] + w2
                                        // wrapped-frame vector = binX[q] + image - xw_i
                                        let image = float sh0 * a.[0] + float sh1 * a.[1] + float sh2 * a.[2] - xwi
                                        let q0 = binStart.[id]
                                        let q1 = binStart.[id + 1]
                                        candidates <- candidates + int64 (q1 - q0)

                                        for q in q0 .. q1 - 1 do
                                            let dx = binX.[3 * q] + image.X
                                            let dy = binX.[3 * q + 1] + image.Y
                                            let dz = binX.[3 * q + 2] + image.Z

                                            if dx * dx + dy * dy + dz * dz < loose then
                                                let j = binAtoms.[q]
                                                // image shift relative to the given (unwrapped) positions
                                                let s0 = sh0 - binWrap.[3 * q] + wi0
                                                let s1 = sh1 - binWrap.[3 * q + 1] + wi1
                                                let s2 = sh2 - binWrap.[3 * q + 2] + wi2

                                                if not (i = j && s0 = 0 && s1 = 0 && s2 = 0) then
                                                    // same arithmetic as `reference`: both lists hold identical floats
                                                    let shift = float s0 * a.[0] + float s1 * a.[1] + float s2 * a.[2]
                                                    let v = Vec3.get x j + shift - xi

                                                    if Vec3.dot v v < c2 then
                                                        if count = keys.Length then
                                                            let grown = Array.zeroCreate (2 * keys.Length)
                                                            Array.blit keys 0 grown 0 count
                                                            keys <- grown

                                                        keys.[count] <-
                                                            (int64 j <<< jbit)
                                                            ||| (int64 (s0 + off.[0]) <<< sh0b)
                                                            ||| (int64 (s1 + off.[1]) <<< sh1b)
                                                            ||| (int64 (s2 + off.[2]) <<< sh2b)

                                                        count <- count + 1

                start.[i + 1] <- count - rowStart
                Array.Sort(keys, rowStart, count - rowStart)

            struct (keys, count, candidates)

        // contiguous chunks of atoms searched in parallel; the result does not depend on the number of threads
        let chunks =
            if chunks > 0 then min chunks (max n 1)
            elif n < 4096 then 1
            else min 256 (4 * Environment.ProcessorCount)

        let bounds =
            Array.init (chunks + 1) (fun c -> int (int64 n * int64 c / int64 chunks))

        let parts = Array.zeroCreate chunks

        if chunks = 1 then
            parts.[0] <- search 0 n
        else
            Threading.Tasks.Parallel.For(0, chunks, (fun c -> parts.[c] <- search bounds.[c] bounds.[c + 1]))
            |> ignore

        for i in 0 .. n - 1 do
            start.[i + 1] <- start.[i + 1] + start.[i]

        let total = start.[n]
        let index = Array.zeroCreate total
        let vectors = Array.zeroCreate (3 * total)
        let dist = Array.zeroCreate total
        let mutable candidates = 0L

        for c in 0 .. chunks - 1 do
            let struct (_, _, k) = parts.[c]
            candidates <- candidates + k

        let decode (c: int) =
            let struct (keys, _, _) = parts.[c]
            let first = start.[bounds.[c]]

            for i in bounds.[c] .. bounds.[c + 1] - 1 do
                let xi = Vec3.get x i

                for e in start.[i] .. start.[i + 1] - 1 do
                    let key = keys.[e - first]
                    let s2 = int ((key >>> sh2b) &&& mask.[2]) - off.[2]
                    let s1 = int ((key >>> sh1b) &&& mask.[1]) - off.[1]
                    let s0 = int ((key >>> sh0b) &&& mask.[0]) - off.[0]
                    let j = int (key >>> jbit)
                    let shift = float s0 * a.[0] + float s1 * a.[1] + float s2 * a.[2]
                    let v = Vec3.get x j + shift - xi
                    index.[e] <- j
                    Vec3.set vectors e v
                    dist.[e] <- Vec3.norm v

        if chunks = 1 then
            decode 0
        else
            Threading.Tasks.Parallel.For(0, chunks, decode) |> ignore

        { Cutoff = cutoff
          Start = start
          Index = index
          Vectors = vectors
          Distances = dist },
        candidates

    /// The full neighbour list of `config` within `cutoff` (Å) by cell lists, in O(N) time for a bounded density.
    /// Atoms are binned by their fractional coordinates in a frame made of the periodic cell vectors (completed by
    /// orthonormal directions on open axes; a cluster uses the bounding box of its positions in Cartesian axes), with
    /// bins at least `cutoff` wide; periodic axes are wrapped (atoms outside the cell are binned at their wrapped
    /// position but keep their true vectors), open axes are not. When the cutoff exceeds the cell height along a
    /// periodic axis, several images are visited. Rows are sorted by (j, s1, s2, s3), with s the integer image shift
    /// of the entry relative to the given positions (vector = y_j + s·A − y_i): the same entries in the same order as
    /// `reference`. Raises `ArgumentException` for a non-positive cutoff, a NaN/∞ position (naming the atom) or
    /// degenerate periodic cell vectors.
    let build (cutoff: float) (config: Configuration) : NeighbourList = fst (buildChunked 0 cutoff config)

    /// The closest pair of atoms (i, j, distance in Å) with i ≤ j, periodic images included (i = j means an atom is
    /// closest to its own periodic image), found with cell lists of growing cutoff; (-1, -1, +∞) for fewer than two
    /// atoms (and no periodic axis). Used to reject overlapping atoms (e.g. closer than 0.5 Å).
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
            let mutable cutoff = max 1e-3 (Math.Cbrt(vol / float n))
            let mutable result = struct (-1, -1, Double.PositiveInfinity)
            let mutable found = false

            while not found do
                let nl = build cutoff config

                for i in 0 .. n - 1 do
                    for e in nl.Start.[i] .. nl.Start.[i + 1] - 1 do
                        let j = nl.Index.[e]
                        let struct (_, _, d) = result

                        if j >= i && nl.Distances.[e] < d then
                            result <- struct (i, j, nl.Distances.[e])
                            found <- true

                if not found then
                    if cutoff > bound then
                        invalidArg "config" "no pair of atoms found within the extent of the configuration"

                    cutoff <- 2.0 * cutoff

            result
