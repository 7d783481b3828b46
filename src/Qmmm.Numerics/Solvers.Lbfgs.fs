namespace Qmmm.Numerics

open System

/// Outcome of the L-BFGS stage before any polish.
type internal LbfgsOutcome =
    | Converged
    | Stalled
    | IterationCap

/// Preconditioned L-BFGS with a line search on the objective and its directional derivative (Nocedal & Wright,
/// Algorithms 7.4 and 3.5; the approximate Wolfe conditions of Hager & Zhang 2005 accept a step whose value change is
/// below round-off when its directional derivative has dropped enough). For a relaxation the objective is the
/// energy-difference functional (2.7), whose round-off is that of the site-energy differences, not of |E|.
[<RequireQualifiedAccess>]
module Lbfgs =

    let private c1 = 1e-4
    let private c2 = 0.9

    /// Runs L-BFGS from `x0` until ‖∇φ‖∞ <= `stopAt`, a stall (two failed line searches in a row) or the iteration cap.
    /// Returns (x, φ, g, iterations, evaluations, outcome); `x0` is not modified.
    let internal run
        (settings: SolverSettings)
        (stopAt: float)
        (precond: Preconditioner)
        (obj: Objective)
        (x0: float[])
        =
        let n = obj.Dimension
        Validate.length "x0" n x0
        let m = settings.Memory
        let x = Array.copy x0
        let g = Array.zeroCreate n
        let xt = Array.zeroCreate n
        let gt = Array.zeroCreate n
        let d = Array.zeroCreate n
        let z = Array.zeroCreate n
        let ps = Array.zeroCreate n
        let S = Array.init m (fun _ -> Array.zeroCreate<float> n)
        let Y = Array.init m (fun _ -> Array.zeroCreate<float> n)
        let rho = Array.zeroCreate m
        let alphaK = Array.zeroCreate m
        let mutable stored = 0
        let mutable newest = -1
        let mutable evals = 1
        let mutable phi = obj.Evaluate x g
        let mutable iter = 0
        let mutable fails = 0
        let mutable outcome = None
        let mutable res = Vector.normInf g

        // d = −H g by the two-loop recursion with H0 = γ P⁻¹, γ = sᵀ P s / sᵀy of the newest pair (P⁻¹ scaled so that
        // H0 matches the inverse curvature along the last step).
        let direction () =
            Array.blit g 0 d 0 n

            for k in 0 .. stored - 1 do
                let j = (newest - k + m) % m
                alphaK.[j] <- rho.[j] * Vector.dot S.[j] d
                Vector.axpy (-alphaK.[j]) Y.[j] d

            precond.Solve d z

            if stored > 0 then
                precond.Multiply S.[newest] ps
                let gamma = Vector.dot S.[newest] ps / Vector.dot S.[newest] Y.[newest]

                for i in 0 .. n - 1 do
                    z.[i] <- gamma * z.[i]

            for k in stored - 1 .. -1 .. 0 do
                let j = (newest - k + m) % m
                let beta = rho.[j] * Vector.dot Y.[j] z
                Vector.axpy (alphaK.[j] - beta) S.[j] z

            for i in 0 .. n - 1 do
                d.[i] <- -z.[i]

        // Line search along d from (x, φ, g): writes the accepted point into xt, gt; returns (ok, φt, α).
        let lineSearch () =
            let dphi0 = Vector.dot g d
            let dmax = Vector.normInf d

            let mutable alpha =
                if dmax * 1.0 > settings.MaxStep then
                    settings.MaxStep / dmax
                else
                    1.0

            let mutable lo = 0.0
            let mutable dlo = dphi0
            let mutable hi = Double.PositiveInfinity
            let mutable dhi = 0.0
            let noise = 1e-12 * (1.0 + abs phi)
            let mutable result = None
            let mutable tries = 0

            while result.IsNone && tries < 25 do
                tries <- tries + 1
                Vector.addScaled x alpha d xt
                let pt = obj.Evaluate xt gt
                evals <- evals + 1
                let dpt = Vector.dot gt d
                let armijo = pt <= phi + c1 * alpha * dphi0
                let approx = pt <= phi + noise && dpt <= (2.0 * c1 - 1.0) * dphi0
                let decrease = Double.IsFinite pt && (armijo || approx)

                if decrease && dpt >= c2 * dphi0 then
                    result <- Some(pt, alpha)
                elif not decrease || dpt > 0.0 then
                    hi <- alpha
                    dhi <- dpt
                    // secant on the directional derivative, kept inside the bracket
                    let t =
                        if Double.IsFinite dpt && dhi > dlo then
                            lo - dlo * (hi - lo) / (dhi - dlo)
                        else
                            0.5 * (lo + hi)

                    alpha <- max (lo + 0.1 * (hi - lo)) (min (hi - 0.1 * (hi - lo)) t)
                else
                    lo <- alpha
                    dlo <- dpt

                    alpha <-
                        if Double.IsFinite hi then
                            let t = lo - dlo * (hi - lo) / (dhi - dlo)
                            max (lo + 0.1 * (hi - lo)) (min (hi - 0.1 * (hi - lo)) t)
                        else
                            min (4.0 * alpha) (10.0 * settings.MaxStep / dmax)

            result

        while outcome.IsNone do
            settings.Cancellation.ThrowIfCancellationRequested()

            if res <= stopAt then
                outcome <- Some Converged
            elif iter >= settings.MaxIterations then
                outcome <- Some IterationCap
            else
                direction ()

                if Vector.dot g d >= 0.0 then
                    // not a descent direction: forget the curvature pairs
                    stored <- 0
                    direction ()

                match lineSearch () with
                | Some(pt, alpha) ->
                    fails <- 0
                    newest <- (newest + 1) % m
                    let s = S.[newest]
                    let y = Y.[newest]

                    for i in 0 .. n - 1 do
                        s.[i] <- alpha * d.[i]
                        y.[i] <- gt.[i] - g.[i]

                    let sy = Vector.dot s y

                    if sy > 0.0 then
                        rho.[newest] <- 1.0 / sy
                        stored <- min m (stored + 1)
                    else
                        newest <- (newest - 1 + m) % m

                    Array.blit xt 0 x 0 n
                    Array.blit gt 0 g 0 n
                    phi <- pt
                    res <- Vector.normInf g
                    iter <- iter + 1

                    settings.Progress
                        { Method = "lbfgs"
                          Iteration = iter
                          Value = phi
                          Residual = res }
                | None ->
                    fails <- fails + 1
                    stored <- 0

                    if fails >= 2 then
                        outcome <- Some Stalled

        struct (x, phi, g, iter, evals, outcome.Value)
