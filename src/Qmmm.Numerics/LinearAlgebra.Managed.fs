namespace Qmmm.Numerics

open System
open MathNet.Numerics.Providers.LinearAlgebra

/// Managed dense linear algebra: the same operations as `Native`, in pure .NET. Symmetric eigenproblems and gemm go
/// through MathNet.Numerics' managed provider (`ManagedLinearAlgebraProvider.Instance`, chosen explicitly so that
/// MathNet's global provider setting plays no role); the Cholesky reduction and the column-pivoted QR (which MathNet
/// lacks) are written here. Same layouts, results and error messages as the native routines (routine names carry
/// "(managed)"). 10–30× slower than OpenBLAS for n ≳ 500: the fallback when the native libraries cannot be loaded.
[<RequireQualifiedAccess>]
module Managed =

    let private provider = ManagedLinearAlgebraProvider.Instance

    /// √(x² + y²) without overflow or harmful underflow (LAPACK's `dlapy2`).
    let private hypot (x: float) (y: float) =
        let ax = abs x
        let ay = abs y
        let w = max ax ay
        let z = min ax ay

        if z = 0.0 then w else w * sqrt (1.0 + (z / w) * (z / w))

    /// Eigen-decomposition of the symmetric n×n matrix `a` by MathNet's managed solver (`a` is not modified):
    /// eigenvalues ascending, eigenvectors as columns.
    let private evd (n: int) (a: float[]) : struct (float[] * float[]) =
        let vectors = Array.zeroCreate (n * n)
        let values = Array.zeroCreate<System.Numerics.Complex> n
        let d = Array.zeroCreate (n * n)
        provider.EigenDecomp(true, n, a, vectors, values, d)
        let w = values |> Array.map (fun z -> z.Real)
        // MathNet's symmetric solver (tred2/tql2) returns ascending values; sort defensively if it ever does not.
        let mutable sorted = true

        for i in 1 .. n - 1 do
            if w.[i] < w.[i - 1] then
                sorted <- false

        if sorted then
            struct (w, vectors)
        else
            let order = Array.init n id |> Array.sortBy (fun i -> w.[i])
            let v = Array.zeroCreate (n * n)

            for j in 0 .. n - 1 do
                Array.blit vectors (order.[j] * n) v (j * n) n

            struct (order |> Array.map (fun i -> w.[i]), v)

    /// Eigen-decomposition of a symmetric n×n matrix `a` (column-major, not modified). Returns the eigenvalues in
    /// ascending order and orthonormal eigenvectors as the columns of an n×n column-major array (as `dsyevd`).
    let symmetricEigen (n: int, a: float[]) : struct (float[] * float[]) =
        Checks.symmetric "a" n a
        evd n a

    /// In-place lower Cholesky factor L (B = L Lᵀ) of the symmetric n×n column-major `l` (lower triangle read,
    /// upper triangle zeroed). Returns 0, or k ≥ 1 when the leading minor of order k is not positive (LAPACK's
    /// `dpotrf` convention).
    let internal cholesky (n: int) (l: float[]) =
        let mutable info = 0
        let mutable j = 0

        while info = 0 && j < n do
            // column j: l_jj = sqrt(b_jj - Σ_p<j l_jp²); l_ij = (b_ij - Σ_p<j l_ip l_jp) / l_jj
            let mutable s = l.[j + j * n]

            for p in 0 .. j - 1 do
                s <- s - l.[j + p * n] * l.[j + p * n]

            if not (s > 0.0) then
                info <- j + 1
            else
                let d = sqrt s
                l.[j + j * n] <- d

                for p in 0 .. j - 1 do
                    let ljp = l.[j + p * n]

                    if ljp <> 0.0 then
                        for i in j + 1 .. n - 1 do
                            l.[i + j * n] <- l.[i + j * n] - l.[i + p * n] * ljp

                for i in j + 1 .. n - 1 do
                    l.[i + j * n] <- l.[i + j * n] / d

                for i in 0 .. j - 1 do
                    l.[i + j * n] <- 0.0

                j <- j + 1

        info

    /// Overwrites each of the `cols` columns of the n×cols column-major `x` by L⁻¹ x (forward substitution).
    let private forwardSolve (n: int) (l: float[]) (cols: int) (x: float[]) =
        for c in 0 .. cols - 1 do
            let o = c * n

            for j in 0 .. n - 1 do
                let xj = x.[o + j] / l.[j + j * n]
                x.[o + j] <- xj

                if xj <> 0.0 then
                    for i in j + 1 .. n - 1 do
                        x.[o + i] <- x.[o + i] - l.[i + j * n] * xj

    /// Overwrites each of the `cols` columns of `x` by L⁻ᵀ x (back substitution with Lᵀ).
    let private backSolveTransposed (n: int) (l: float[]) (cols: int) (x: float[]) =
        for c in 0 .. cols - 1 do
            let o = c * n

            for j in n - 1 .. -1 .. 0 do
                // (Lᵀ x)_j = Σ_{i≥j} l_ij x_i
                let mutable s = x.[o + j]

                for i in j + 1 .. n - 1 do
                    s <- s - l.[i + j * n] * x.[o + i]

                x.[o + j] <- s / l.[j + j * n]

    /// Generalized symmetric-definite eigenproblem A c = λ B c (A symmetric, B symmetric positive definite, n×n
    /// column-major, not modified), by Cholesky reduction: B = L Lᵀ, C = L⁻¹ A L⁻ᵀ, C y = λ y, c = L⁻ᵀ y. Returns
    /// ascending λ and B-normalised eigenvectors (cᵀ B c = yᵀ y = 1) as columns. Raises `QmmmException`
    /// "dsygvd (managed): B is not positive definite (info = n+k)" as LAPACK does.
    let generalizedSymmetricEigen (a: float[], b: float[], n: int) : struct (float[] * float[]) =
        Checks.symmetric "a" n a
        Checks.symmetric "b" n b
        let l = Array.copy b
        let info = cholesky n l

        if info > 0 then
            Checks.lapackInfo "dsygvd (managed)" (n + info) (Checks.sygvdMessage n)

        // X = L⁻¹ A; C = L⁻¹ Xᵀ = L⁻¹ A L⁻ᵀ (A symmetric); then symmetrise the rounding.
        let x = Array.copy a
        forwardSolve n l n x
        let c = Array.zeroCreate (n * n)

        for j in 0 .. n - 1 do
            for i in 0 .. n - 1 do
                c.[i + j * n] <- x.[j + i * n]

        forwardSolve n l n c

        for j in 0 .. n - 1 do
            for i in j + 1 .. n - 1 do
                let s = 0.5 * (c.[i + j * n] + c.[j + i * n])
                c.[i + j * n] <- s
                c.[j + i * n] <- s

        let struct (w, y) = evd n c
        backSolveTransposed n l n y
        struct (w, y)

    /// Column-pivoted Householder QR, A P = Q R, of an m×n column-major `a` (not modified): the Businger–Golub
    /// algorithm as LAPACK's `dgeqp3`/`dlaqp2` run it (largest remaining partial column norm first, first index on
    /// ties; partial norms downdated and recomputed when cancellation exceeds √ε; reflectors as `dlarfg`:
    /// β = −sign(α)‖x‖, τ = (β − α)/β, v = x/(α − β)). Same compact layout as `Native.qrPivoted`.
    let qrPivoted (m: int, n: int, a: float[]) : PivotedQr =
        Checks.rectangular "a" m n a
        let f = Array.copy a
        let k = min m n
        let tau = Array.zeroCreate k
        let perm = Array.init n id
        let vn1 = Array.zeroCreate n // partial column norms ‖A[i.., j]‖
        let vn2 = Array.zeroCreate n // norms at the last recomputation
        let tol3z = sqrt (Math.Pow(2.0, -53.0)) // √ of LAPACK's dlamch('E')

        let colNorm (j: int) (from: int) =
            // scaled 2-norm of f[from.., j], safe from overflow
            let o = j * m
            let mutable scale = 0.0
            let mutable ssq = 1.0

            for i in from .. m - 1 do
                let x = abs f.[o + i]

                if x > 0.0 then
                    if scale < x then
                        ssq <- 1.0 + ssq * (scale / x) * (scale / x)
                        scale <- x
                    else
                        ssq <- ssq + (x / scale) * (x / scale)

            scale * sqrt ssq

        for j in 0 .. n - 1 do
            vn1.[j] <- colNorm j 0
            vn2.[j] <- vn1.[j]

        for i in 0 .. k - 1 do
            // pivot: the remaining column with the largest partial norm (first on ties)
            let mutable p = i

            for j in i + 1 .. n - 1 do
                if vn1.[j] > vn1.[p] then
                    p <- j

            if p <> i then
                for r in 0 .. m - 1 do
                    let t = f.[r + p * m]
                    f.[r + p * m] <- f.[r + i * m]
                    f.[r + i * m] <- t

                let t = perm.[p]
                perm.[p] <- perm.[i]
                perm.[i] <- t
                vn1.[p] <- vn1.[i]
                vn2.[p] <- vn2.[i]

            // Householder reflector H = I - τ v vᵀ with H x = (β, 0, …) for x = f[i.., i]
            let o = i * m
            let alpha = f.[o + i]
            let xnorm = if i + 1 < m then colNorm i (i + 1) else 0.0

            if xnorm = 0.0 then
                tau.[i] <- 0.0
            else
                let beta = -(Math.CopySign(hypot alpha xnorm, alpha))
                tau.[i] <- (beta - alpha) / beta
                let scale = 1.0 / (alpha - beta)

                for r in i + 1 .. m - 1 do
                    f.[o + r] <- f.[o + r] * scale

                f.[o + i] <- beta

                // apply H to the remaining columns: f[i.., j] -= τ (vᵀ f[i.., j]) v, v_i = 1
                let t = tau.[i]

                for j in i + 1 .. n - 1 do
                    let oj = j * m
                    let mutable w = f.[oj + i]

                    for r in i + 1 .. m - 1 do
                        w <- w + f.[o + r] * f.[oj + r]

                    if w <> 0.0 then
                        let tw = t * w
                        f.[oj + i] <- f.[oj + i] - tw

                        for r in i + 1 .. m - 1 do
                            f.[oj + r] <- f.[oj + r] - tw * f.[o + r]

            // downdate the partial norms of the remaining columns (LAPACK Working Note 176)
            for j in i + 1 .. n - 1 do
                if vn1.[j] <> 0.0 then
                    let r = abs f.[i + j * m] / vn1.[j]
                    let temp = max 0.0 (1.0 - r * r)
                    let ratio = vn1.[j] / vn2.[j]
                    let temp2 = temp * ratio * ratio

                    if temp2 <= tol3z then
                        if i + 1 < m then
                            vn1.[j] <- colNorm j (i + 1)
                            vn2.[j] <- vn1.[j]
                        else
                            vn1.[j] <- 0.0
                            vn2.[j] <- 0.0
                    else
                        vn1.[j] <- vn1.[j] * sqrt temp

        { Rows = m
          Columns = n
          Factors = f
          Tau = tau
          Permutation = perm }

    /// The thin orthogonal factor Q (m×k, k = min(m, n), column-major, orthonormal columns) of a pivoted QR
    /// factorisation: Q = H_0 ⋯ H_{k-1} applied to the first k columns of the identity (as `dorgqr`).
    let qrQ (qr: PivotedQr) : float[] =
        Checks.qr qr
        let m = qr.Rows
        let k = min qr.Rows qr.Columns
        let f = qr.Factors
        let q = Array.zeroCreate (m * k)

        for c in 0 .. k - 1 do
            q.[c + c * m] <- 1.0

        for c in 0 .. k - 1 do
            let oc = c * m
            // Q e_c = H_0 ( … (H_{k-1} e_c)); H_i leaves e_c unchanged for i > c
            for i in min c (k - 1) .. -1 .. 0 do
                let t = qr.Tau.[i]

                if t <> 0.0 then
                    let o = i * m
                    let mutable w = q.[oc + i]

                    for r in i + 1 .. m - 1 do
                        w <- w + f.[o + r] * q.[oc + r]

                    let tw = t * w
                    q.[oc + i] <- q.[oc + i] - tw

                    for r in i + 1 .. m - 1 do
                        q.[oc + r] <- q.[oc + r] - tw * f.[o + r]

        q

    /// General matrix product C := α op(A) op(B) + β C (op(X) = X or Xᵀ; op(A) m×k, op(B) k×n, C m×n overwritten;
    /// A stored m×k, or k×m when transposed; B k×n, or n×k), by MathNet's managed `MatrixMultiplyWithUpdate`.
    let gemm
        (
            transA: bool,
            transB: bool,
            m: int,
            n: int,
            k: int,
            alpha: float,
            a: float[],
            b: float[],
            beta: float,
            c: float[]
        ) =
        Checks.gemm m n k alpha a b beta c

        let ta =
            if transA then
                Transpose.Transpose
            else
                Transpose.DontTranspose

        let tb =
            if transB then
                Transpose.Transpose
            else
                Transpose.DontTranspose

        let ra, ca = if transA then k, m else m, k
        let rb, cb = if transB then n, k else k, n
        provider.MatrixMultiplyWithUpdate(ta, tb, alpha, a, ra, ca, b, rb, cb, beta, c)
