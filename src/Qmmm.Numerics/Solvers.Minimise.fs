namespace Qmmm.Numerics

open System.Diagnostics

/// The robust minimiser of the relaxations: preconditioned L-BFGS (Solvers.Lbfgs.fs) down to
/// `SolverSettings.NewtonSwitch` (or until its line search stalls near round-off), then the Newton–Krylov polish
/// (Solvers.Newton.fs) down to `SolverSettings.Tolerance`. Fails loudly: `ConvergenceException` naming iterations,
/// residual and tolerance when the tolerance is not reached.
[<RequireQualifiedAccess>]
module Minimise =

    /// Minimises `obj` from `x0` (not modified) to ‖∇φ‖∞ <= settings.Tolerance. Raises `ConvergenceException`
    /// (iterations = L-BFGS + Newton iterations, residual = the final ‖∇φ‖∞) when neither stage gets there within its
    /// caps, and `OperationCanceledException` when `settings.Cancellation` fires.
    let run (settings: SolverSettings) (precond: Preconditioner) (obj: Objective) (x0: float[]) : SolverReport =
        Validate.positive "settings.Tolerance" settings.Tolerance
        Validate.intInRange "settings.MaxIterations" 0 System.Int32.MaxValue settings.MaxIterations
        Validate.intInRange "settings.MaxNewtonIterations" 0 System.Int32.MaxValue settings.MaxNewtonIterations
        Validate.intInRange "settings.Memory" 1 1000 settings.Memory
        Validate.positive "settings.MaxStep" settings.MaxStep
        Validate.positive "settings.DifferenceStep" settings.DifferenceStep
        let watch = Stopwatch.StartNew()
        let stopAt = max settings.Tolerance settings.NewtonSwitch

        let useNewton =
            settings.MaxNewtonIterations > 0 && settings.NewtonSwitch > settings.Tolerance

        let stopLbfgs = if useNewton then stopAt else settings.Tolerance

        let struct (x, phi, g, iters, evals, outcome) =
            Lbfgs.run settings stopLbfgs precond obj x0

        let res = Vector.normInf g

        let sci (v: float) =
            v.ToString("0.000e+00", System.Globalization.CultureInfo.InvariantCulture)

        let fail (its: int) (r: float) (why: string) =
            raise (
                ConvergenceException(
                    sprintf
                        "relaxation did not converge: ‖F‖∞ = %s after %d iterations, tolerance %s (%s)"
                        (sci r)
                        its
                        (sci settings.Tolerance)
                        why,
                    its,
                    r,
                    settings.Tolerance
                )
            )

        if res <= settings.Tolerance then
            { X = x
              Value = phi
              Residual = res
              Iterations = iters
              NewtonIterations = 0
              Evaluations = evals
              NewtonResiduals = [||]
              Seconds = watch.Elapsed.TotalSeconds }
        elif not useNewton || (outcome = LbfgsOutcome.IterationCap && res > stopAt) then
            let why =
                match outcome with
                | LbfgsOutcome.IterationCap -> sprintf "L-BFGS iteration cap %d reached" settings.MaxIterations
                | LbfgsOutcome.Stalled -> "the L-BFGS line search stalled"
                | LbfgsOutcome.Converged -> "L-BFGS stopped"

            fail iters res why
        else
            let struct (x, phi, g, nits, nevals, history) =
                Newton.run settings precond obj x g phi

            let res = Vector.normInf g

            if res > settings.Tolerance then
                fail
                    (iters + nits)
                    res
                    (sprintf "%d L-BFGS + %d Newton–Krylov iterations (cap %d)" iters nits settings.MaxNewtonIterations)

            { X = x
              Value = phi
              Residual = res
              Iterations = iters
              NewtonIterations = nits
              Evaluations = evals + nevals
              NewtonResiduals = history
              Seconds = watch.Elapsed.TotalSeconds }
