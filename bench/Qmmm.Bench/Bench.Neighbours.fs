/// Neighbour-list construction throughput (atoms per second) of `Neighbours.build` against the previous cell-list
/// builder (`buildSimple`: per-atom search, rows sorted with Array.Sort) measured in the same run, on
/// perturbed periodic bcc W cells; and `ClosestPair.find` against the previous closest-pair search (cell-list
/// neighbour lists of doubling cutoff, scanned for the minimum).
module Qmmm.Bench.Neighbours

open System
open System.IO
open Qmmm.Numerics
open Qmmm.Bench.Harness

/// The 1, 5 and 15 minute load averages (Linux), or "?".
let private loadAverage () =
    try
        let parts = File.ReadAllText("/proc/loadavg").Split(' ')
        String.Join(" ", parts.[0..2])
    with _ ->
        "?"

/// The previous `Neighbours.build` (commit d48d9d3), kept verbatim as the baseline: one search per atom over the
/// neighbouring bins, each row collected as packed (j, shift) keys and sorted with `Array.Sort`, then decoded. Same
/// entries and order as `Neighbours.reference`; returns the list and the number of candidates tested.
let buildSimple (chunks: int) (cutoff: float) (config: Configuration) =
    Validate.positive "cutoff" cutoff
    Validate.finite "cutoff" cutoff
    CellList.validate config
    let n = config.Count
    let x = config.Positions
    let cell = config.Cell
    let per = cell.Pbc
    let a = Array.init 3 (Cell.vector cell)
    let f = CellList.frame cell
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

    struct (start, index, vectors, dist), candidates

/// The previous `closestPair`: neighbour lists (previous builder) of a doubling cutoff, scanned for the first pair.
let private closestPairSimple (config: Configuration) =
    let n = config.Count
    let f = CellList.frame config.Cell
    let vol = abs (Vec3.dot f.[0] (Vec3.cross f.[1] f.[2]))
    let mutable cutoff = max 1e-3 (Math.Cbrt(vol / float n))
    let mutable best = struct (-1, -1, Double.PositiveInfinity)
    let mutable found = false

    while not found do
        let struct (start, index, _, dist), _ = buildSimple 1 cutoff config

        for i in 0 .. n - 1 do
            for e in start.[i] .. start.[i + 1] - 1 do
                let struct (_, _, d) = best

                if index.[e] >= i && dist.[e] < d then
                    best <- struct (i, index.[e], dist.[e])
                    found <- true

        cutoff <- 2.0 * cutoff

    best

/// Wall and process CPU time (s) of one call.
let private timed (f: unit -> unit) =
    let proc = Diagnostics.Process.GetCurrentProcess()
    let cpu0 = proc.TotalProcessorTime
    let sw = Diagnostics.Stopwatch.StartNew()
    f ()
    let wall = sw.Elapsed.TotalSeconds
    proc.Refresh()
    struct (wall, (proc.TotalProcessorTime - cpu0).TotalSeconds)

/// Medians of wall and CPU times of `reps` runs of f and g, interleaved (f, g, f, g, ...) after one warm-up each, so
/// that a changing machine load affects both alike.
let private interleaved (reps: int) (f: unit -> unit) (g: unit -> unit) =
    f ()
    g ()
    let runs = Array.init reps (fun _ -> struct (timed f, timed g))

    let med (sel: struct (struct (float * float) * struct (float * float)) -> float) =
        let xs = runs |> Array.map sel |> Array.sort
        xs.[reps / 2]

    med (fun (struct (struct (w, _), _)) -> w),
    med (fun (struct (struct (_, c), _)) -> c),
    med (fun (struct (_, struct (w, _))) -> w),
    med (fun (struct (_, struct (_, c))) -> c)

/// `neighbours [cells=20,40] [reps=3]`: perturbed bcc W cells of 2 cells^3 atoms (16,000 and 128,000 by default),
/// cutoffs 5.5 Å and 7.8925 Å (the W_zhou setfl cutoff). Single-thread runs report wall and process CPU time (the CPU
/// time is the robust figure on a shared machine); ratios are against the previous builder in the same run.
let run (args: string[]) =
    let sizes =
        if args.Length > 0 then
            args.[0].Split(',') |> Array.map int
        else
            [| 20; 40 |]

    let reps = if args.Length > 1 then int args.[1] else 3
    let threads = Environment.ProcessorCount
    printfn "Neighbour-list benchmark: load average %s, %d cores" (loadAverage ()) threads

    for cells in sizes do
        let config =
            Domains.periodic (Lattice.bcc "W" 3.165) cells cells cells
            |> Domains.perturb 12345 0.05

        let n = config.Count
        printfn "bcc W a = 3.165 Å, %d^3 cells, %d atoms, random displacements ±0.05 Å" cells n

        for cutoff in [ 5.5; 7.8925 ] do
            let pairs = (Neighbours.buildWith 1 cutoff config).Pairs

            let wNew, cNew, wOld, cOld =
                interleaved reps (fun () -> Neighbours.buildWith 1 cutoff config |> ignore) (fun () ->
                    buildSimple 1 cutoff config |> ignore)

            // alone (not interleaved with the previous builder, whose garbage the collector may clear meanwhile)
            let wSolo = median reps (fun () -> Neighbours.buildWith 1 cutoff config |> ignore)

            let wAll =
                median reps (fun () -> Neighbours.buildWith threads cutoff config |> ignore)

            printfn "  cutoff %g Å, %.1f neighbours per atom" cutoff (float pairs / float n)
            report "  build, 1 thread (wall)" (float n / wNew) "atoms/s"
            report "  build, 1 thread (CPU)" (float n / cNew) "atoms/s"
            report "  previous builder, 1 thread (wall)" (float n / wOld) "atoms/s"
            report "  previous builder, 1 thread (CPU)" (float n / cOld) "atoms/s"
            report "  speed-up over previous, 1 thread (wall)" (wOld / wNew) "x"
            report "  speed-up over previous, 1 thread (CPU)" (cOld / cNew) "x"
            report "  build time, 1 thread (wall / CPU)" wNew (sprintf "s / %.3f s" cNew)
            report "  build, 1 thread, runs alone (wall)" (float n / wSolo) (sprintf "atoms/s  (%.3f s)" wSolo)
            report (sprintf "  build, %d threads (wall)" threads) (float n / wAll) (sprintf "atoms/s  (%.3f s)" wAll)

        let wClosest, cClosest, wClosestOld, cClosestOld =
            interleaved reps (fun () -> ClosestPair.find config |> ignore) (fun () ->
                closestPairSimple config |> ignore)

        let struct (i, j, d) = ClosestPair.find config
        let struct (i0, j0, d0) = closestPairSimple config

        if (i, j, d) <> (i0, j0, d0) then
            eprintfn "closest pair mismatch: (%d, %d, %.17g) vs previous (%d, %d, %.17g)" i j d i0 j0 d0

        printfn "  closest pair (%d, %d) at %.4f Å" i j d
        report "  closestPair (wall)" (float n / wClosest) "atoms/s"
        report "  closestPair (CPU)" (float n / cClosest) "atoms/s"
        report "  previous closest-pair search (CPU)" (float n / cClosestOld) "atoms/s"

        report
            "  speed-up over previous (wall / CPU)"
            (wClosestOld / wClosest)
            (sprintf "x / %.2f x" (cClosestOld / cClosest))

    printfn "load average after: %s" (loadAverage ())
