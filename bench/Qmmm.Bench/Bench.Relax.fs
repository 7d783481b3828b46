/// Relaxation of the W vacancy and the W edge dislocation (quasi-2D, Zhou EAM from W_zhou.eam.alloy, anisotropic CLE
/// predictor) to ‖F‖∞ <= 1e-10: iterations, force evaluations and wall time with the Exp preconditioner and without
/// it, measured in the same run (interleaved: vacancy with, vacancy without, edge with, edge without) at each R_MM.
/// `dotnet run --project bench/Qmmm.Bench -c Release -- relax [R_MM in units of a, default 10 20] [--no-plain]`
module Qmmm.Bench.Relax

open System
open System.IO
open System.Diagnostics
open Qmmm.Numerics
open Qmmm.Bench.Harness

let private loadAverage () =
    try
        let parts = File.ReadAllText("/proc/loadavg").Split(' ')
        String.Join(" ", parts.[0..2])
    with _ ->
        "?"

/// Runs the benchmark for the radii (units of a) given in `args` (default 10 and 20).
let run (args: string[]) =
    let plain = not (Array.contains "--no-plain" args)

    let radii =
        args
        |> Array.filter (fun s -> not (s.StartsWith "--"))
        |> Array.map float
        |> fun r -> if r.Length = 0 then [| 10.0; 20.0 |] else r

    let path = "/work/shared/potentials/W_zhou.eam.alloy"
    let data = Setfl.parse Alloy "W_zhou.eam.alloy" (File.ReadAllText path)
    let pot = Eam.potential (Setfl.model "W_zhou.eam.alloy" data) |> Potential.ofSite
    let a = Elasticity.equilibriumLatticeConstant pot (fun a -> Lattice.bcc "W" a) 3.16
    let c = Elasticity.stiffness pot (Lattice.bcc "W" a)

    printfn
        "relax: W_zhou.eam.alloy, a = %.10f Å, load average %s, %d cores"
        a
        (loadAverage ())
        Environment.ProcessorCount

    let settings =
        { SolverSettings.Defaults with
            Tolerance = 1e-10 }

    for rmm in radii do
        for defect in [ DefectKind.Vacancy; DefectKind.Edge ] do
            let spec =
                { Crystal = Crystal.W
                  Defect = defect
                  Shape = DomainShape.Quasi2D
                  A = a
                  RMM = rmm * a
                  RFF = Regions.defaultWidth a pot.Cutoff * a
                  Predictor = PredictorKind.Anisotropic c
                  Smoothing = None }

            let p = DefectProblem.create spec

            let kinds =
                [ yield "exp", PreconditionerKind.Exp ExpPreconditionerSettings.Defaults
                  if plain then
                      yield "none", PreconditionerKind.NoPreconditioner ]

            for name, kind in kinds do
                let sw = Stopwatch.StartNew()

                try
                    let r = Relax.problem settings EvaluationSettings.Defaults kind pot p

                    printfn
                        "%-8A R_MM %5.1f a  atoms %7d free %7d  precond %-5s  lbfgs %5d newton %2d  evals %6d  |F| %.2e  %7.2f s  (load %s)"
                        defect
                        rmm
                        p.Domain.Reference.Count
                        p.Regions.Free.Length
                        name
                        r.Report.Iterations
                        r.Report.NewtonIterations
                        r.Report.Evaluations
                        r.Residual
                        sw.Elapsed.TotalSeconds
                        (loadAverage ())
                with :? ConvergenceException as e ->
                    printfn
                        "%-8A R_MM %5.1f a  precond %-5s  FAILED after %.1f s: %s"
                        defect
                        rmm
                        name
                        sw.Elapsed.TotalSeconds
                        e.Message
