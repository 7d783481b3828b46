/// EAM energy+forces throughput (atom-evaluations per second) against LAMMPS `pair_style eam/alloy` on the same setfl
/// file and the same perturbed bcc W configuration, measured in the same run.
module Qmmm.Bench.Eam

open System
open System.Diagnostics
open System.IO
open Qmmm.Numerics
open Qmmm.Bench.Harness

/// Finds `W_zhou.eam.alloy`: $QMMM_POTENTIALS, else a `shared/potentials` folder beside a parent of the working folder.
let findPotential () =
    let name = "W_zhou.eam.alloy"

    let fromEnv =
        match Environment.GetEnvironmentVariable "QMMM_POTENTIALS" with
        | null
        | "" -> []
        | d -> [ Path.Combine(d, name) ]

    let rec up (dir: DirectoryInfo) =
        if isNull dir then
            []
        else
            Path.Combine(dir.FullName, "shared", "potentials", name) :: up dir.Parent

    fromEnv @ up (DirectoryInfo(Directory.GetCurrentDirectory()))
    |> List.tryFind File.Exists

/// Runs the LAMMPS baseline script and returns its atom-evaluations per second, if LAMMPS is installed.
let private lammps (cells: int) (steps: int) =
    let script = Path.Combine("bench", "lammps", "run.sh")

    if not (File.Exists script) then
        eprintfn "LAMMPS baseline skipped: run from the repository root (bench/lammps/run.sh not found)"
        None
    else
        let psi = ProcessStartInfo("bash", sprintf "%s %d %d" script cells steps)
        psi.RedirectStandardOutput <- true
        psi.RedirectStandardError <- true
        use p = Process.Start psi
        let out = p.StandardOutput.ReadToEnd()
        let err = p.StandardError.ReadToEnd()
        p.WaitForExit()

        let value key =
            out.Split('\n')
            |> Array.tryPick (fun l ->
                let parts = l.Trim().Split(' ', 2)

                if parts.Length = 2 && parts.[0] = key then
                    Some parts.[1]
                else
                    None)

        match p.ExitCode, value "lammps_atom_evals_per_s" with
        | 0, Some v ->
            printfn
                "LAMMPS: %s (%s CPU use reported by LAMMPS)"
                (defaultArg (value "lammps_version") "?")
                (defaultArg (value "lammps_cpu_use") "?")

            Some(float v)
        | _ ->
            eprintfn "LAMMPS baseline failed (is Debian's lammps installed?): %s" (err.Trim())
            None

/// `eam [cells=40] [reps=3]`: 2 cells^3 atoms (128,000 for 40).
let run (args: string[]) =
    let cells = if args.Length > 0 then int args.[0] else 40
    let reps = if args.Length > 1 then int args.[1] else 3

    match findPotential () with
    | None -> eprintfn "EAM benchmark skipped: W_zhou.eam.alloy not found (set QMMM_POTENTIALS)"
    | Some file ->
        let config =
            Domains.periodic (Lattice.bcc "W" 3.165) cells cells cells
            |> Domains.perturb 12345 0.05

        let n = config.Count
        let data = Setfl.parse SetflKind.Alloy file (File.ReadAllText file)
        let setfl = Eam.potential (Setfl.model "setfl:W_zhou" data)
        let marinica = Eam.potential Marinica.model
        printfn "EAM benchmark: %d atoms, bcc W a = 3.165 Å, random displacements ±0.05 Å" n

        let mutable nl = Neighbours.build setfl.Cutoff config
        let tList = median reps (fun () -> nl <- Neighbours.build setfl.Cutoff config)
        report "neighbour list (cell lists, setfl cutoff 7.8925 Å)" (float n / tList) "atoms/s"
        report "neighbour entries per atom" (float nl.Pairs / float n) ""

        let proc = Process.GetCurrentProcess()

        let cpuSeconds () =
            proc.Refresh()
            proc.TotalProcessorTime.TotalSeconds

        /// Median throughput and the process CPU time per wall time over the runs (< threads means contention).
        let throughputWith (settings: Evaluate.Settings) (pot: ISitePotential) (nl: NeighbourList) =
            let c0 = cpuSeconds ()
            let w0 = Stopwatch.StartNew()
            let t = median reps (fun () -> Evaluate.allWith settings pot config nl |> ignore)
            let cpuUse = (cpuSeconds () - c0) / w0.Elapsed.TotalSeconds
            float n / t, cpuUse

        let throughput (pot: ISitePotential) (nl: NeighbourList) (threads: int) =
            throughputWith
                { Evaluate.defaults with
                    Threads = threads }
                pot
                nl

        printfn "load average (1 min) before the Qmmm runs: %s on %d cores" (loadAverage ()) Environment.ProcessorCount
        let ours1, use1 = throughput setfl nl 1
        report "Qmmm setfl W_zhou energy+forces+virial, 1 thread" ours1 "atom-evals/s"
        report "  CPU use (1.0 = one core busy)" use1 ""
        let oursAll, useAll = throughput setfl nl Environment.ProcessorCount

        report
            (sprintf "Qmmm setfl W_zhou energy+forces+virial, %d threads" Environment.ProcessorCount)
            oursAll
            "atom-evals/s"

        report (sprintf "  CPU use (%d.0 = all cores busy)" Environment.ProcessorCount) useAll ""

        let generic1, _ =
            throughputWith
                { Evaluate.defaults with
                    Threads = 1
                    Generic = true }
                setfl
                nl

        report "Qmmm setfl W_zhou, generic per-site path (oracle), 1 thread" generic1 "atom-evals/s"

        let nlM = Neighbours.build marinica.Cutoff config
        let mar1, _ = throughput marinica nlM 1
        report "Qmmm Marinica EAM4 (analytic) energy+forces+virial, 1 thread" mar1 "atom-evals/s"
        let zhou1, _ = throughput (Eam.potential Zhou.model) nl 1
        report "Qmmm Zhou (analytic) energy+forces+virial, 1 thread" zhou1 "atom-evals/s"
        printfn "load average (1 min) before the LAMMPS run: %s" (loadAverage ())

        match lammps cells 10 with
        | Some l ->
            report "LAMMPS eam/alloy W_zhou, 1 core (Pair time only)" l "atom-evals/s"
            report "ratio Qmmm / LAMMPS, 1 thread (target >= 0.7)" (ours1 / l) ""
            report (sprintf "ratio Qmmm %d threads / LAMMPS 1 core" Environment.ProcessorCount) (oursAll / l) ""
        | None -> ()
