/// Linear ACE energy+forces cost (µs per atom per core) for the paper's basis sizes on bcc W (cutoff 5.5 Å, 58
/// neighbours), interleaved with the analytic Marinica EAM on the same configuration as a same-run baseline.
module Qmmm.Bench.Ace

open System
open Qmmm.Numerics
open Qmmm.Bench.Harness

/// `ace [cells=5] [reps=3]`: 2 cells^3 atoms; bases (3,10), (3,16), (3,18), (4,20); 1 and 2 threads.
let run (args: string[]) =
    let cells = if args.Length > 0 then int args.[0] else 5
    let reps = if args.Length > 1 then int args.[1] else 3

    let radial =
        { AceRadial.defaults with
            R0 = 2.74
            RIn = 1.37
            RCut = 5.5 }

    let config =
        Domains.periodic (Lattice.bcc "W" 3.1652) cells cells cells
        |> Domains.perturb 12345 0.05

    let n = config.Count
    let eam = Eam.potential Marinica.model |> Potential.ofSite
    printfn "ACE benchmark: %d atoms, load average %s" n (IO.File.ReadAllText("/proc/loadavg").Trim())

    for (order, degree) in [ 3, 10.0; 3, 16.0; 3, 18.0; 4, 20.0 ] do
        let sw = Diagnostics.Stopwatch.StartNew()

        let basis =
            AceBasis.create
                { AceBasis.spec order degree with
                    Radial = radial }

        let tBasis = sw.Elapsed.TotalSeconds
        let rng = Random 1
        let c = Array.init basis.Size (fun _ -> 1e-3 * (2.0 * rng.NextDouble() - 1.0))
        let ace = AcePotential("ace", "W", basis, c) |> Potential.ofSite
        let nl = Potential.neighbourList ace Request.All 0.0 config
        let neighbours = float nl.Start.[n] / float n

        for threads in [ 1; 2 ] do
            let request =
                { Request.All with
                    SiteEnergies = false
                    Settings =
                        { EvaluationSettings.Defaults with
                            Threads = threads } }

            let ws = Workspace()

            let timeAce () =
                Potential.evaluateInto ace config nl request ws

            let timeEam () =
                Potential.evaluateInto eam config nl request ws
            // interleave: ACE, EAM, ACE, EAM ...
            let ta = Array.zeroCreate reps
            let te = Array.zeroCreate reps
            timeAce ()
            timeEam ()

            for r in 0 .. reps - 1 do
                let s1 = Diagnostics.Stopwatch.StartNew()
                timeAce ()
                ta.[r] <- s1.Elapsed.TotalSeconds
                let s2 = Diagnostics.Stopwatch.StartNew()
                timeEam ()
                te.[r] <- s2.Elapsed.TotalSeconds

            Array.sortInPlace ta
            Array.sortInPlace te
            let perAtomCore (t: float) = t * float threads / float n * 1e6

            printfn
                "%-58s %9.1f %9.1f µs/atom/core (median, min of %d)"
                (sprintf
                    "ace (%d,%g) #B=%d #A=%d, %.1f nbrs, %d thr"
                    order
                    degree
                    basis.Size
                    basis.ACount
                    neighbours
                    threads)
                (perAtomCore ta.[reps / 2])
                (perAtomCore ta.[0])
                reps

            printfn
                "%-58s %9.1f %9.1f µs/atom/core"
                (sprintf "  eam-w-marinica same run, %d thr" threads)
                (perAtomCore te.[reps / 2])
                (perAtomCore te.[0])

        report (sprintf "  basis construction (%d,%g)" order degree) tBasis "s"

    printfn "load average after: %s" (IO.File.ReadAllText("/proc/loadavg").Trim())

/// `ace-derivatives`: time of δʲB(0), j = 1..3, for all B of (3,16) and (4,20) at bcc W (radii 5.5, 4.5, 2.8 Å),
/// with the memory of the columns (8 bytes per entry).
let derivatives (_args: string[]) =
    let radial =
        { AceRadial.defaults with
            R0 = 2.74
            RIn = 1.37
            RCut = 5.5 }

    let lat = Lattice.bcc "W" 3.1652
    let stencil = Lattice.stencil lat 5.5
    printfn "ACE derivative columns: load average %s" (IO.File.ReadAllText("/proc/loadavg").Trim())

    for (order, degree) in [ 3, 16.0; 4, 20.0 ] do
        let basis =
            AceBasis.create
                { AceBasis.spec order degree with
                    Radial = radial }

        for (j, radius) in [ 1, 5.5; 2, 4.5; 3, 2.8 ] do
            let sw = Diagnostics.Stopwatch.StartNew()
            let ts = AceDerivatives.siteTensors basis stencil j radius
            let t = sw.Elapsed.TotalSeconds
            let entries = ts.[0].Values.Length

            report
                (sprintf
                    "δ^%dB(0) (%d,%g) #B=%d, r=%g Å, %d tuples"
                    j
                    order
                    degree
                    basis.Size
                    radius
                    (SiteTensor.count ts.[0]))
                t
                (sprintf "s (%.0f MB)" (float entries * float basis.Size * 8.0 / 1e6))

            if j <= 2 then
                let sw = Diagnostics.Stopwatch.StartNew()

                let full =
                    if radius >= 5.5 then
                        ts
                    else
                        AceDerivatives.siteTensors basis stencil j 5.5

                let cb = AceDerivatives.cauchyBorn full
                report (sprintf "  Cauchy–Born ∂^%d_F W_cb for all B (radius = cutoff)" j) sw.Elapsed.TotalSeconds "s"
                ignore cb
