/// A relaxation-like loop: 100 force evaluations with small displacements through a `Calculator` that keeps a
/// Verlet-skin neighbour list and rebuilds it only when some atom moved more than skin/2 — against LAMMPS `run 100`
/// (velocity Verlet from rest, the same timestep, skin, setfl file and configuration), measured in the same run.
module Qmmm.Bench.Loop

open System
open System.Diagnostics
open System.IO
open Qmmm.Numerics
open Qmmm.Bench.Harness

/// W mass (amu) and the conversion of F/m (eV/Å/amu) to Å/ps² in LAMMPS metal units.
let private mass, ftm2v = 183.84, 1.0 / 1.0364269e-4

/// Velocity Verlet from rest for `steps` steps with timestep dt (ps): one force evaluation per step after the first.
let private verlet (calc: Calculator) (config: Configuration) (steps: int) (dt: float) =
    let x = Array.copy config.Positions
    let v = Array.zeroCreate x.Length
    let cfg = { config with Positions = x }
    let struct (_, f0) = calc.EnergyForces cfg
    let f = Array.copy f0
    let a = dt * ftm2v / mass

    for _ in 1..steps do
        for k in 0 .. x.Length - 1 do
            v.[k] <- v.[k] + 0.5 * a * f.[k]
            x.[k] <- x.[k] + dt * v.[k]

        let struct (_, fn) = calc.EnergyForces cfg
        Array.blit fn 0 f 0 f.Length

        for k in 0 .. x.Length - 1 do
            v.[k] <- v.[k] + 0.5 * a * f.[k]

    Vec3.get x 0

/// LAMMPS `run steps` of in.loop.lmp: its loop time (s) and the number of neighbour-list builds.
let private lammps (pot: string) (cells: int) (steps: int) (dt: float) (skin: float) =
    let here = Path.Combine("bench", "lammps", "in.loop.lmp")

    if not (File.Exists here) then
        None
    else
        let args =
            sprintf
                "-nocite -log none -echo screen -var n %d -var steps %d -var dt %g -var s %g -var pot %s -in %s"
                cells
                steps
                dt
                skin
                pot
                here

        let psi =
            ProcessStartInfo("lmp", args, RedirectStandardOutput = true, RedirectStandardError = true)

        psi.Environment.["OMP_NUM_THREADS"] <- "1"

        try
            use p = Process.Start psi
            let out = p.StandardOutput.ReadToEnd()
            p.WaitForExit()
            let lines = out.Split('\n')

            let loop =
                lines
                |> Array.tryPick (fun l ->
                    if l.StartsWith "Loop time of" then
                        Some(float (l.Split(' ').[3]))
                    else
                        None)

            let builds =
                lines
                |> Array.tryPick (fun l ->
                    if l.StartsWith "Total # of neighbors" then
                        None
                    elif l.StartsWith "Neighbor list builds" then
                        Some(l.Split('=').[1].Trim())
                    else
                        None)

            loop |> Option.map (fun t -> t, defaultArg builds "?")
        with e ->
            eprintfn "LAMMPS baseline failed (is Debian's lammps installed?): %s" e.Message
            None

/// `loop [cells=40] [steps=100] [reps=3] [skin=1.0]`: 2 cells³ atoms, timestep 1 fs.
let run (args: string[]) =
    let cells = if args.Length > 0 then int args.[0] else 40
    let steps = if args.Length > 1 then int args.[1] else 100
    let reps = if args.Length > 2 then int args.[2] else 3
    let skin = if args.Length > 3 then float args.[3] else 1.0
    let dt = 0.001

    match Eam.findPotential () with
    | None -> eprintfn "loop benchmark skipped: W_zhou.eam.alloy not found (set QMMM_POTENTIALS)"
    | Some file ->
        let config =
            Domains.periodic (Lattice.bcc "W" 3.165) cells cells cells
            |> Domains.perturb 12345 0.05

        let data = Setfl.parse SetflKind.Alloy file (File.ReadAllText file)
        let pot = Potential.ofSite (Eam.potential (Setfl.model "setfl:W_zhou" data))

        printfn
            "loop benchmark: %d atoms, %d velocity-Verlet steps of %g ps from rest, skin %g Å, 1 thread each"
            config.Count
            steps
            dt
            skin

        let settings =
            { EvaluationSettings.Defaults with
                Threads = 1
                Skin = skin }

        // interleaved: Qmmm, LAMMPS, Qmmm, LAMMPS, ...
        let ours = ResizeArray()
        let theirs = ResizeArray()
        let mutable builds = 0

        for r in 1..reps do
            let calc = Calculator(pot, settings)
            let sw = Stopwatch.StartNew()
            verlet calc config steps dt |> ignore
            ours.Add sw.Elapsed.TotalSeconds
            builds <- calc.Builds

            match lammps file cells steps dt skin with
            | Some(t, b) ->
                theirs.Add t

                printfn
                    "  run %d: Qmmm %.3f s (%d list builds) | LAMMPS %.3f s (%s builds) | load %s"
                    r
                    ours.[ours.Count - 1]
                    builds
                    t
                    b
                    (loadAverage ())
            | None -> printfn "  run %d: Qmmm %.3f s (%d list builds) | LAMMPS not run" r ours.[ours.Count - 1] builds

        let med (xs: ResizeArray<float>) =
            (Seq.sort xs |> Array.ofSeq).[xs.Count / 2]

        report "Qmmm loop time (median)" (med ours) "s"

        if theirs.Count > 0 then
            report "LAMMPS loop time (median)" (med theirs) "s"
            report "LAMMPS-time / Qmmm-time" (med theirs / med ours) ""
