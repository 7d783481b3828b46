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

            report
                (sprintf
                    "ace (%d,%g) #B=%d #A=%d, %.1f nbrs, %d thr"
                    order
                    degree
                    basis.Size
                    basis.ACount
                    neighbours
                    threads)
                (perAtomCore ta.[reps / 2])
                "µs/atom/core"

            report (sprintf "  eam-w-marinica same run, %d thr" threads) (perAtomCore te.[reps / 2]) "µs/atom/core"

        report (sprintf "  basis construction (%d,%g)" order degree) tBasis "s"

    printfn "load average after: %s" (IO.File.ReadAllText("/proc/loadavg").Trim())
