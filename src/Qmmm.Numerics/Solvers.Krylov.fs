namespace Qmmm.Numerics

open System

/// Krylov solvers for A x = b with A given only through products v ↦ A v (Saad, "Iterative Methods for Sparse
/// Linear Systems", Algorithms 6.9 (GMRES) and 9.1 (preconditioned CG)).
[<RequireQualifiedAccess>]
module Krylov =

    /// Right-preconditioned restarted GMRES(m): solves A x = b for x = M⁻¹ w, starting from x = 0, until
    /// ‖b − A x‖₂ <= relTol ‖b‖₂ or `maxProducts` products with A. `apply v av` writes A v; `precondSolve r z` writes
    /// z = M⁻¹ r. Returns (x, relative residual, products used). Deterministic (sequential loops).
    let gmres
        (apply: float[] -> float[] -> unit)
        (precondSolve: float[] -> float[] -> unit)
        (restart: int)
        (relTol: float)
        (maxProducts: int)
        (b: float[])
        =
        Validate.intInRange "restart" 1 10000 restart
        let n = b.Length
        let x = Array.zeroCreate n
        let bnorm = sqrt (Vector.dot b b)

        if bnorm = 0.0 then
            struct (x, 0.0, 0)
        else
            let m = restart
            let V = Array.init (m + 1) (fun _ -> Array.zeroCreate<float> n)
            let Z = Array.init m (fun _ -> Array.zeroCreate<float> n)
            let H = Array2D.zeroCreate (m + 1) m
            let cs = Array.zeroCreate m
            let sn = Array.zeroCreate m
            let e = Array.zeroCreate (m + 1)
            let r = Array.zeroCreate n
            let mutable products = 0
            let mutable rel = 1.0
            let mutable fin = false

            while not fin do
                // r = b − A x
                if products = 0 then
                    Array.blit b 0 r 0 n
                else
                    apply x r
                    products <- products + 1

                    for i in 0 .. n - 1 do
                        r.[i] <- b.[i] - r.[i]

                let beta = sqrt (Vector.dot r r)
                rel <- beta / bnorm

                if rel <= relTol || products >= maxProducts then
                    fin <- true
                else
                    for i in 0 .. n - 1 do
                        V.[0].[i] <- r.[i] / beta

                    Array.fill e 0 (m + 1) 0.0
                    e.[0] <- beta
                    let mutable k = 0
                    let mutable inner = true

                    while inner do
                        precondSolve V.[k] Z.[k]
                        apply Z.[k] V.[k + 1]
                        products <- products + 1
                        let w = V.[k + 1]
                        // modified Gram–Schmidt
                        for j in 0..k do
                            let h = Vector.dot w V.[j]
                            H.[j, k] <- h
                            Vector.axpy (-h) V.[j] w

                        let hn = sqrt (Vector.dot w w)
                        H.[k + 1, k] <- hn

                        if hn > 0.0 then
                            for i in 0 .. n - 1 do
                                w.[i] <- w.[i] / hn

                        for j in 0 .. k - 1 do
                            let t = cs.[j] * H.[j, k] + sn.[j] * H.[j + 1, k]
                            H.[j + 1, k] <- -sn.[j] * H.[j, k] + cs.[j] * H.[j + 1, k]
                            H.[j, k] <- t

                        let den = sqrt (H.[k, k] * H.[k, k] + H.[k + 1, k] * H.[k + 1, k])
                        cs.[k] <- if den = 0.0 then 1.0 else H.[k, k] / den
                        sn.[k] <- if den = 0.0 then 0.0 else H.[k + 1, k] / den
                        H.[k, k] <- den
                        H.[k + 1, k] <- 0.0
                        e.[k + 1] <- -sn.[k] * e.[k]
                        e.[k] <- cs.[k] * e.[k]
                        rel <- abs e.[k + 1] / bnorm
                        k <- k + 1

                        if rel <= relTol || k >= m || products >= maxProducts || hn = 0.0 then
                            inner <- false

                    // back substitution H y = e, x += Σ y_j Z_j
                    let y = Array.zeroCreate k

                    for j in k - 1 .. -1 .. 0 do
                        let mutable s = e.[j]

                        for l in j + 1 .. k - 1 do
                            s <- s - H.[j, l] * y.[l]

                        y.[j] <- s / H.[j, j]

                    for j in 0 .. k - 1 do
                        Vector.axpy y.[j] Z.[j] x

                    if rel <= relTol || products >= maxProducts then
                        fin <- true

            struct (x, rel, products)

    /// Flexible preconditioned conjugate gradients for a symmetric positive-definite A (Notay 2000: the Polak–Ribière
    /// form β = r₊ᵀ(z₊ − z)/rᵀz tolerates a preconditioner applied inexactly), from x = 0 until
    /// ‖b − A x‖₂ <= relTol ‖b‖₂ or `maxProducts` products. Stops early at negative curvature pᵀAp <= 0 (then x is
    /// the last iterate, or −b scaled if none). Returns (x, relative residual, products).
    let pcg
        (apply: float[] -> float[] -> unit)
        (precondSolve: float[] -> float[] -> unit)
        (relTol: float)
        (maxProducts: int)
        (b: float[])
        =
        let n = b.Length
        let x = Array.zeroCreate n
        let r = Array.copy b
        let z = Array.zeroCreate n
        let zOld = Array.zeroCreate n
        let p = Array.zeroCreate n
        let q = Array.zeroCreate n
        let bnorm = sqrt (Vector.dot b b)
        precondSolve r z
        Array.blit z 0 p 0 n
        let mutable rz = Vector.dot r z
        let mutable products = 0
        let mutable rel = if bnorm = 0.0 then 0.0 else 1.0
        let mutable stop = bnorm = 0.0

        while not stop && rel > relTol && products < maxProducts do
            apply p q
            products <- products + 1
            let pq = Vector.dot p q

            if not (pq > 0.0) then
                if products = 1 then
                    Array.blit z 0 x 0 n

                stop <- true
            else
                let alpha = rz / pq
                Vector.axpy alpha p x
                Vector.axpy (-alpha) q r
                rel <- sqrt (Vector.dot r r) / bnorm
                Array.blit z 0 zOld 0 n
                precondSolve r z
                let mutable num = 0.0

                for i in 0 .. n - 1 do
                    num <- num + r.[i] * (z.[i] - zOld.[i])

                let rzNew = Vector.dot r z
                let beta = max 0.0 (num / rz)
                rz <- rzNew

                for i in 0 .. n - 1 do
                    p.[i] <- z.[i] + beta * p.[i]

        struct (x, rel, products)

    /// Conjugate gradients for a symmetric positive-definite A with the diagonal (Jacobi) preconditioner `diag`,
    /// from x = 0 until ‖b − A x‖₂ <= relTol ‖b‖₂ or `maxIterations`; writes x. Returns the iterations used.
    let cg
        (apply: float[] -> float[] -> unit)
        (diag: float[])
        (relTol: float)
        (maxIterations: int)
        (b: float[])
        (x: float[])
        =
        let n = b.Length
        Array.fill x 0 n 0.0
        let r = Array.copy b
        let z = Array.init n (fun i -> r.[i] / diag.[i])
        let p = Array.copy z
        let q = Array.zeroCreate n
        let bnorm = sqrt (Vector.dot b b)
        let mutable rz = Vector.dot r z
        let mutable it = 0
        let mutable rn = bnorm

        while rn > relTol * bnorm && it < maxIterations do
            apply p q
            let alpha = rz / Vector.dot p q
            Vector.axpy alpha p x
            Vector.axpy (-alpha) q r

            for i in 0 .. n - 1 do
                z.[i] <- r.[i] / diag.[i]

            let rz1 = Vector.dot r z
            let beta = rz1 / rz
            rz <- rz1

            for i in 0 .. n - 1 do
                p.[i] <- z.[i] + beta * p.[i]

            rn <- sqrt (Vector.dot r r)
            it <- it + 1

        it
