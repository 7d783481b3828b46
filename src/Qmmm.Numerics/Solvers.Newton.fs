namespace Qmmm.Numerics

open System

/// Newton–Krylov iteration for ∇φ(x) = 0 (Kelley, "Solving Nonlinear Equations with Newton's Method", §3): each
/// step solves H δ = −∇φ by flexible preconditioned CG (symmetric H; `SolverSettings.Symmetric`) or flexible
/// right-preconditioned GMRES(60) with Hessian–vector products from directional differences of
/// the gradient, H v ≈ (∇φ(x + h v) − ∇φ(x − h v)) / 2h, h = δ_FD / ‖v‖∞ (O(h²) accurate), to the forcing tolerance
/// η = min(0.1, ‖∇φ‖∞) (quadratic convergence up to the accuracy of the products); a step that does not reduce
/// ‖∇φ‖∞ is halved (at most 8 times). Works for any gradient field, not only for minimisation.
[<RequireQualifiedAccess>]
module Newton =

    /// Directional-difference Hessian–vector product at `x` for the objective: writes H v into `hv` (2 gradient
    /// evaluations; `xt`, `g1`, `g2` are scratch of length n).
    let internal hessianVector
        (obj: Objective)
        (step: float)
        (x: float[])
        (xt: float[])
        (g1: float[])
        (g2: float[])
        (v: float[])
        (hv: float[])
        =
        let vmax = Vector.normInf v

        if vmax = 0.0 then
            Array.fill hv 0 hv.Length 0.0
        else
            let h = step / vmax
            Vector.addScaled x h v xt
            obj.Evaluate xt g1 |> ignore
            Vector.addScaled x (-h) v xt
            obj.Evaluate xt g2 |> ignore

            for i in 0 .. hv.Length - 1 do
                hv.[i] <- (g1.[i] - g2.[i]) / (2.0 * h)

    /// Newton–Krylov polish from `x0` (φ0 and gradient g0 there) until ‖∇φ‖∞ <= settings.Tolerance or
    /// settings.MaxNewtonIterations. Returns (x, φ, g, iterations, evaluations, residual history starting with ‖g0‖∞).
    let internal run
        (settings: SolverSettings)
        (precond: Preconditioner)
        (obj: Objective)
        (x0: float[])
        (g0: float[])
        (phi0: float)
        =
        let n = obj.Dimension
        let x = Array.copy x0
        let g = Array.copy g0
        let xt = Array.zeroCreate n
        let xs = Array.zeroCreate n
        let gs = Array.zeroCreate n
        let g1 = Array.zeroCreate n
        let g2 = Array.zeroCreate n
        let rhs = Array.zeroCreate n
        let mutable phi = phi0
        let mutable res = Vector.normInf g
        let history = ResizeArray [ res ]
        let mutable it = 0
        let mutable evals = 0
        let mutable stop = false

        while not stop && res > settings.Tolerance && it < settings.MaxNewtonIterations do
            settings.Cancellation.ThrowIfCancellationRequested()

            for i in 0 .. n - 1 do
                rhs.[i] <- -g.[i]

            let eta = min 0.1 res

            let apply (v: float[]) (hv: float[]) =
                hessianVector obj settings.DifferenceStep x xt g1 g2 v hv
                evals <- evals + 2

            let struct (delta, _, _) =
                if settings.Symmetric then
                    Krylov.pcg apply precond.Solve eta 2000 rhs
                else
                    Krylov.gmres apply precond.Solve 60 eta 2000 rhs

            let mutable t = 1.0
            let mutable accepted = false
            let mutable halvings = 0

            while not accepted && halvings <= 8 do
                Vector.addScaled x t delta xs
                let ps = obj.Evaluate xs gs
                evals <- evals + 1
                let rs = Vector.normInf gs

                if rs < res then
                    accepted <- true
                    Array.blit xs 0 x 0 n
                    Array.blit gs 0 g 0 n
                    phi <- ps
                    res <- rs
                else
                    t <- 0.5 * t
                    halvings <- halvings + 1

            if not accepted then
                stop <- true
            else
                it <- it + 1
                history.Add res

                settings.Progress
                    { Method = "newton"
                      Iteration = it
                      Value = phi
                      Residual = res }

        struct (x, phi, g, it, evals, history.ToArray())
