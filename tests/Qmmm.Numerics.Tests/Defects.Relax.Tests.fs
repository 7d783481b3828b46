/// Relaxation of defect domains with Zhou W: the perfect domain is an equilibrium, translation changes nothing,
/// the W vacancy reaches ‖F‖∞ <= 1e-10 (checked by an independent force evaluation), the Newton polish converges
/// quadratically, the quasi-2D vacancy formation energy converges with R_MM, failures are loud, results do not
/// depend on the thread count.
module Qmmm.Numerics.Tests.DefectsRelax

open System
open Expecto
open Qmmm.Numerics
open Qmmm.Numerics.Tests.Elasticity

/// W problem with radii in units of a.
let spec (defect: DefectKind) (rmm: float) (rff: float) =
    let a = aZhou.Force()

    { Crystal = Crystal.W
      Defect = defect
      Shape = DomainShape.Quasi2D
      A = a
      RMM = rmm * a
      RFF = rff * a
      Predictor = PredictorKind.Anisotropic(cZhou.Force())
      Smoothing = None }

/// max |F| over the free atoms of `y` by a fresh evaluation (no solver state).
let freeResidual (pot: IPotential) (p: DefectProblem) (y: float[]) =
    let f = (Potential.compute pot { p.Predicted with Positions = y }).Forces
    p.Regions.Free |> Array.map (fun i -> Vec3.norm (Vec3.get f i)) |> Array.max

let tight =
    { SolverSettings.Defaults with
        Tolerance = 1e-10 }

let precond = PreconditionerKind.Exp ExpPreconditionerSettings.Defaults

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Defects.Relax"
        [ testCase "the perfect domain is an equilibrium: forces < 1e-10 eV/Å on the free atoms when R_FF >= 2 cutoffs"
          <| fun () ->
              let pot = zhou.Force()
              let p = DefectProblem.create (spec DefectKind.NoDefect 4.0 5.0)
              Expect.isGreaterThanOrEqual p.Spec.RFF (2.0 * pot.Cutoff) "R_FF >= 2 cutoffs"
              let f = freeResidual pot p p.Predicted.Positions
              Expect.isLessThan f 1e-10 (sprintf "max |F| on free atoms = %g" f)

          testCase "translating the domain changes neither energies nor forces (1e-9)"
          <| fun () ->
              let pot = zhou.Force()
              let p = DefectProblem.create (spec DefectKind.Edge 4.0 5.0)
              let t = [| 0.37; -1.21; 2.9 |]
              let moved = p.Predicted.Positions |> Array.mapi (fun k v -> v + t.[k % 3])
              let r1 = Potential.compute pot p.Predicted
              let r2 = Potential.compute pot { p.Predicted with Positions = moved }
              Expect.floatClose { absolute = 1e-9; relative = 0.0 } r2.Energy r1.Energy "energy"

              for k in 0 .. r1.Forces.Length - 1 do
                  Expect.floatClose { absolute = 1e-9; relative = 0.0 } r2.Forces.[k] r1.Forces.[k] (sprintf "F[%d]" k)

          testCase "the W vacancy (R_MM = 6a) relaxes to ‖F‖∞ <= 1e-10; a fresh force evaluation agrees"
          <| fun () ->
              let pot = zhou.Force()
              let p = DefectProblem.create (spec DefectKind.Vacancy 6.0 5.0)
              let r = Relax.problem tight EvaluationSettings.Defaults precond pot p
              Expect.isLessThanOrEqual r.Residual 1e-10 "solver residual"
              let f = freeResidual pot p r.Positions
              Expect.isLessThanOrEqual f 2e-10 (sprintf "independent |F| max %g (per-atom norm)" f)
              Expect.isLessThan r.EnergyDifference 0.0 "relaxation lowers the energy"
              // E(y) − E(y0) from the totals agrees with the site-difference functional to round-off of |E|
              Expect.floatClose
                  { absolute = 1e-8; relative = 0.0 }
                  (r.Energy - r.InitialEnergy)
                  r.EnergyDifference
                  "ℰ(u) = E(y) − E(y0)"

          testCase
              "the Newton–Krylov polish converges quadratically on the W vacancy (r_{k+1} <= 20 r_k² until round-off)"
          <| fun () ->
              let pot = zhou.Force()
              let p = DefectProblem.create (spec DefectKind.Vacancy 5.0 5.0)

              let settings =
                  { tight with
                      Tolerance = 1e-11
                      NewtonSwitch = 3e-3 }

              let r = Relax.problem settings EvaluationSettings.Defaults precond pot p
              let h = r.Report.NewtonResiduals
              Expect.isGreaterThanOrEqual h.Length 3 (sprintf "at least two Newton steps: %A" h)

              for k in 0 .. h.Length - 2 do
                  if h.[k + 1] > 1e-10 then
                      Expect.isLessThanOrEqual h.[k + 1] (20.0 * h.[k] * h.[k]) (sprintf "step %d: %A" k h)

          testCase "the quasi-2D vacancy formation energy converges with R_MM (successive changes shrink)"
          <| fun () ->
              let pot = zhou.Force()

              let ef (rmm: float) =
                  let s = spec DefectKind.Vacancy rmm 5.0

                  let r =
                      Relax.problem
                          { tight with Tolerance = 1e-8 }
                          EvaluationSettings.Defaults
                          precond
                          pot
                          (DefectProblem.create s)

                  Relax.formationEnergy pot s r.Energy

              let e = [| ef 3.0; ef 5.0; ef 7.0 |]
              let d1, d2 = abs (e.[1] - e.[0]), abs (e.[2] - e.[1])
              Expect.isLessThan d2 d1 (sprintf "E_f = %A" e)
              // relaxation lowers E_f below the unrelaxed 3.8508666 eV
              Expect.isLessThan e.[2] 3.8508666 "below the unrelaxed value"
              Expect.isGreaterThan e.[2] 3.0 "by a fraction of an eV"

          testCase "an impossible tolerance gives a ConvergenceException, not a result"
          <| fun () ->
              let pot = zhou.Force()
              let p = DefectProblem.create (spec DefectKind.Vacancy 3.0 5.0)

              let settings =
                  { tight with
                      Tolerance = 1e-17
                      MaxNewtonIterations = 4 }

              let ex =
                  try
                      Relax.problem settings EvaluationSettings.Defaults precond pot p |> ignore
                      None
                  with :? ConvergenceException as ex ->
                      Some ex

              Expect.isSome ex "raised"
              Expect.stringContains ex.Value.Message "tolerance 1.000e-17" "names the tolerance"
              Expect.isGreaterThan ex.Value.Residual 1e-17 "residual above it"

          testCase "the relaxation gives bit-identical positions with 1 and 2 threads"
          <| fun () ->
              let pot = zhou.Force()
              let p = DefectProblem.create (spec DefectKind.Edge 4.0 5.0)

              let run (threads: int) =
                  Relax.problem
                      { tight with Tolerance = 1e-8 }
                      { EvaluationSettings.Defaults with
                          Threads = threads }
                      precond
                      pot
                      p

              let r1, r2 = run 1, run 2
              Expect.sequenceEqual r2.Positions r1.Positions "positions"
              Expect.equal r2.Report.Evaluations r1.Report.Evaluations "same path"

          testCase
              "the W vacancy in a 3-D ball (open in every direction) relaxes to ‖F‖∞ <= 1e-8; a fresh evaluation agrees"
          <| fun () ->
              let pot = zhou.Force()

              let s =
                  { spec DefectKind.Vacancy 3.0 5.0 with
                      Shape = DomainShape.Ball }

              let p = DefectProblem.create s
              Expect.isTrue (Cell.isCluster p.Predicted.Cell) "open"

              let r =
                  Relax.problem { tight with Tolerance = 1e-8 } EvaluationSettings.Defaults precond pot p

              Expect.isLessThanOrEqual (freeResidual pot p r.Positions) 2e-8 "independent |F| on free atoms"
              Expect.isLessThan r.EnergyDifference 0.0 "relaxation lowers the energy"

          testCase "slow (QMMM_SLOW=1): the W vacancy with R_MM = 40a relaxes to ‖F‖∞ <= 1e-10"
          <| fun () ->
              if Environment.GetEnvironmentVariable "QMMM_SLOW" = "1" then
                  let pot = zhou.Force()
                  let p = DefectProblem.create (spec DefectKind.Vacancy 40.0 5.0)
                  let r = Relax.problem tight EvaluationSettings.Defaults precond pot p
                  Expect.isLessThanOrEqual r.Residual 1e-10 "residual"
                  Expect.isLessThanOrEqual (freeResidual pot p r.Positions) 2e-10 "independent" ]
