/// Neighbour-list construction throughput (atoms per second) of `Neighbours.build` against the previous cell-list
/// builder (`Neighbours.buildSimple`: per-atom search, rows sorted with Array.Sort) measured in the same run, on
/// perturbed periodic bcc W cells; and `Neighbours.closestPair` against the previous closest-pair search (cell-list
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

/// The previous `closestPair`: neighbour lists (previous builder) of a doubling cutoff, scanned for the first pair.
let private closestPairSimple (config: Configuration) =
    let n = config.Count
    let f = Neighbours.frame config.Cell
    let vol = abs (Vec3.dot f.[0] (Vec3.cross f.[1] f.[2]))
    let mutable cutoff = max 1e-3 (Math.Cbrt(vol / float n))
    let mutable best = struct (-1, -1, Double.PositiveInfinity)
    let mutable found = false

    while not found do
        let nl, _ = Neighbours.buildSimple 1 cutoff config

        for i in 0 .. n - 1 do
            for e in nl.Start.[i] .. nl.Start.[i + 1] - 1 do
                let struct (_, _, d) = best

                if nl.Index.[e] >= i && nl.Distances.[e] < d then
                    best <- struct (i, nl.Index.[e], nl.Distances.[e])
                    found <- true

        cutoff <- 2.0 * cutoff

    best

/// `neighbours [cells=20,40] [reps=3]`: perturbed bcc W cells of 2 cells^3 atoms (16,000 and 128,000 by default),
/// cutoffs 5.5 Å and 7.8925 Å (the W_zhou setfl cutoff).
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
            let mutable nl = Neighbours.buildWith 1 cutoff config
            let tNew = median reps (fun () -> nl <- Neighbours.buildWith 1 cutoff config)
            let tOld = median reps (fun () -> Neighbours.buildSimple 1 cutoff config |> ignore)
            let tAll = median reps (fun () -> Neighbours.buildWith threads cutoff config |> ignore)
            let tag = sprintf "%d atoms, cutoff %g Å (%.1f neighbours/atom)" n cutoff (float nl.Pairs / float n)
            report (sprintf "build, 1 thread, %s" tag) (float n / tNew) "atoms/s"
            report (sprintf "  time") tNew "s"
            report (sprintf "previous builder, 1 thread") (float n / tOld) "atoms/s"
            report (sprintf "  ratio build / previous, 1 thread") (tOld / tNew) ""
            report (sprintf "build, %d threads" threads) (float n / tAll) "atoms/s"

        let tClosest = median reps (fun () -> Neighbours.closestPair config |> ignore)
        let tClosestOld = median reps (fun () -> closestPairSimple config |> ignore)
        let struct (i, j, d) = Neighbours.closestPair config
        let struct (i0, j0, d0) = closestPairSimple config

        if (i, j, d) <> (i0, j0, d0) then
            eprintfn "closest pair mismatch: (%d, %d, %.17g) vs previous (%d, %d, %.17g)" i j d i0 j0 d0

        report (sprintf "closestPair, %d atoms (%.4f Å)" n d) (float n / tClosest) "atoms/s"
        report "  previous closest-pair search" (float n / tClosestOld) "atoms/s"
        report "  ratio closestPair / previous" (tClosestOld / tClosest) ""

    printfn "load average after: %s" (loadAverage ())

let profile (args: string[]) =
    let cells = if args.Length > 0 then int args.[0] else 40
    let cutoff = if args.Length > 1 then float args.[1] else 7.8925
    let config =
        Domains.periodic (Lattice.bcc "W" 3.165) cells cells cells
        |> Domains.perturb 12345 0.05
    let n = config.Count
    let x = config.Positions
    let cpu (name: string) (f: unit -> 'a) =
        let p = Diagnostics.Process.GetCurrentProcess()
        let t0 = p.TotalProcessorTime
        let sw = Diagnostics.Stopwatch.StartNew()
        let r = f ()
        p.Refresh()
        printfn "%-30s cpu %8.3f s  wall %8.3f s" name (p.TotalProcessorTime - t0).TotalSeconds sw.Elapsed.TotalSeconds
        r
    for rep in 0..2 do
        let bins = cpu "bins" (fun () -> Neighbours.binAtoms cutoff 1 config)
        let counts = Array.zeroCreate n
        let nbins = bins.Start.Length - 1
        let work = cpu "count" (fun () -> Neighbours.countRows bins x cutoff 0 nbins counts)
        let hood = Neighbours.newHood 1024
        cpu "gather" (fun () -> for b in 0 .. nbins - 1 do Neighbours.gather bins b hood |> ignore)
        cpu "gather+sort" (fun () -> for b in 0 .. nbins - 1 do (Neighbours.gather bins b hood |> ignore; Neighbours.sortHood hood))
        let start = Array.zeroCreate (n + 1)
        for i in 0 .. n - 1 do
            start.[i + 1] <- start.[i] + counts.[i]
        let total = start.[n]
        let index, vectors, dist = cpu "alloc" (fun () -> Array.zeroCreate<int> total, Array.zeroCreate<float> (3 * total), Array.zeroCreate<float> total)
        let ok = cpu "fill" (fun () -> Neighbours.fillRows bins x cutoff 0 nbins start index vectors dist)
        cpu "fill again" (fun () -> Neighbours.fillRows bins x cutoff 0 nbins start index vectors dist) |> ignore
        cpu "touch" (fun () -> (Array.fill index 0 index.Length 1; Array.fill vectors 0 vectors.Length 1.0; Array.fill dist 0 dist.Length 1.0))
        let index2, vectors2, dist2 = Array.zeroCreate<int> total, Array.zeroCreate<float> (3 * total), Array.zeroCreate<float> total
        cpu "touch fresh" (fun () -> (Array.fill index2 0 index.Length 1; Array.fill vectors2 0 vectors.Length 1.0; Array.fill dist2 0 dist.Length 1.0))
        printfn "candidates/atom %.1f entries/atom %.1f ok %b nbins %d" (float work / float n) (float total / float n) ok nbins
        cpu "buildWith 1" (fun () -> Neighbours.buildWith 1 cutoff config) |> ignore
        cpu "buildSimple 1" (fun () -> Neighbours.buildSimple 1 cutoff config) |> ignore
