/// Coupled relaxations (Coupling.Problem.fs) of the W vacancy against the reference solution ū (the same problem
/// relaxed with the reference model): with MM = QM every scheme whose coupling is exact for that buffer reproduces ū
/// to solver tolerance; with a mismatched MM model the error is not zero and the residual is the scheme's own.
module Qmmm.Numerics.Tests.CouplingProblem

open System
open Expecto
open Qmmm.Numerics
open Qmmm.Numerics.Tests.DefectsRelax

let private zhou = Potential.ofSite (Eam.potential Zhou.model)
let private settings = EvaluationSettings.Defaults

let private tol =
    { SolverSettings.Defaults with
        Tolerance = 1e-10 }

/// The W vacancy with R_MM = 4a, R_FF = 5a, and its reference solution with the Zhou model.
let private problem =
    lazy
        (let p = DefectProblem.create (spec DefectKind.Vacancy 4.0 5.0)
         let r = Relax.problem tol settings precond zhou p
         p, r.Positions)

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Coupling.Problem"
        [ testCase "energy mixing with MM = QM and a buffer beyond the cutoff reproduces the reference solution"
          <| fun () ->
              let p, reference = problem.Force()
              let a = p.Domain.Lattice.A
              let sites = CoupledProblem.sites p (1.5 * a) (zhou.Cutoff + 0.5)

              let r =
                  CoupledProblem.relax tol settings precond CouplingScheme.Energy zhou zhou p (1.5 * a) sites

              let err = CoupledProblem.error p reference r.Positions
              Expect.isLessThan err 1e-8 (sprintf "‖Dū − Dū^H‖ = %g Å" err)
              Expect.isGreaterThan r.QmEvaluations 0 "the QM cluster was evaluated"

          testCase "force mixing with MM = QM and a buffer beyond twice the cutoff reproduces the reference solution"
          <| fun () ->
              let p, reference = problem.Force()
              let a = p.Domain.Lattice.A
              let sites = CoupledProblem.sites p (1.5 * a) (2.0 * zhou.Cutoff + 0.5)

              let r =
                  CoupledProblem.relax tol settings precond CouplingScheme.Force zhou zhou p (1.5 * a) sites

              let err = CoupledProblem.error p reference r.Positions
              Expect.isLessThan err 1e-8 (sprintf "‖Dū − Dū^H‖ = %g Å" err)
              Expect.isLessThanOrEqual r.Residual 1e-10 "converged"

          testCase "a mismatched MM model gives a non-zero error, for every scheme, and each reaches its tolerance"
          <| fun () ->
              let p, reference = problem.Force()
              let a = p.Domain.Lattice.A
              let mm = Potential.ofSite (Eam.potential Marinica.model)

              for scheme in [ CouplingScheme.Energy; CouplingScheme.EnergyGfc; CouplingScheme.Force ] do
                  let sites = CoupledProblem.sites p (1.5 * a) (2.0 * zhou.Cutoff + 0.5)

                  let r =
                      CoupledProblem.relax
                          { tol with Tolerance = 1e-8 }
                          settings
                          precond
                          scheme
                          zhou
                          mm
                          p
                          (1.5 * a)
                          sites

                  let err = CoupledProblem.error p reference r.Positions
                  Expect.isGreaterThan err 1e-4 (sprintf "%s: error %g Å" scheme.Name err)
                  Expect.isLessThanOrEqual r.Residual 1e-8 (sprintf "%s: residual" scheme.Name)

          testCase "inconsistent radii are refused with the reason"
          <| fun () ->
              let p, _ = problem.Force()

              let e =
                  Expect.throwsC (fun () -> CoupledProblem.sites p p.Regions.RMM 1.0 |> ignore) id

              Expect.stringContains e.Message "below R_MM" "names the condition"
              Expect.throwsT<ArgumentException> (fun () -> CoupledProblem.sites p -1.0 1.0 |> ignore) "negative R_QM"
              Expect.throwsT<ArgumentException> (fun () -> CoupledProblem.sites p 1.0 nan |> ignore) "NaN buffer"

          testCase "an impossible tolerance fails loudly for force mixing"
          <| fun () ->
              let p, _ = problem.Force()
              let a = p.Domain.Lattice.A
              let sites = CoupledProblem.sites p (1.5 * a) 6.0

              let e =
                  Expect.throwsC
                      (fun () ->
                          CoupledProblem.relax
                              { tol with
                                  Tolerance = 1e-30
                                  MaxNewtonIterations = 3 }
                              settings
                              precond
                              CouplingScheme.Force
                              zhou
                              zhou
                              p
                              (1.5 * a)
                              sites
                          |> ignore)
                      id

              Expect.isTrue (e :? ConvergenceException) (sprintf "a ConvergenceException, got %s" (e.GetType().Name))
              Expect.stringContains e.Message "tolerance" "names the tolerance" ]
