namespace Qmmm.Numerics

/// Which implementation of dense linear algebra runs a call: native LAPACKE/OpenBLAS or managed .NET.
[<RequireQualifiedAccess>]
type Backend =
    /// LAPACKE over OpenBLAS (or reference LAPACK; see `Native.status`), through P/Invoke.
    | Native
    /// Pure .NET (MathNet.Numerics' managed provider plus our own Cholesky reduction and pivoted QR).
    | Managed

/// A least-squares solution min ‖A x − b‖₂ from the column-pivoted QR (see `LinearAlgebra.leastSquares`).
type LeastSquaresSolution =
    {
        /// The basic solution x (n entries): zero on the columns beyond the numerical rank.
        Solution: float[]
        /// Numerical rank r: the number of |R_kk| > tol·|R_00|.
        Rank: int
        /// Residual norm ‖A x − b‖₂ (computed from A, x and b).
        Residual: float
    }

/// Dense linear algebra with an explicit backend choice. Matrices are flat column-major `float[]` (entry (i, j) of an
/// m×n matrix at i + j·m); inputs are never modified. Functions take the `Backend` first; `LinearAlgebra.Default`
/// repeats them with `defaultBackend`. Bad dimensions or entries raise `ArgumentException`; a non-zero LAPACK `info`
/// raises `QmmmException` naming the routine and `info`.
[<RequireQualifiedAccess>]
module LinearAlgebra =

    /// Default relative tolerance of the rank-revealing QR (DESIGN: "rank-revealing QR (dgeqp3) with relative
    /// tolerance 1e-5"): column k counts when |R_kk| > 1e-5 |R_00|.
    [<Literal>]
    let DefaultRankTolerance = 1e-5

    /// `Backend.Native` when the native libraries load (`Native.available ()`), else `Backend.Managed`.
    let defaultBackend: Backend =
        if Native.available () then
            Backend.Native
        else
            Backend.Managed

    /// One line naming what `backend` runs on, e.g. "native: OpenBLAS 0.3.21 …" or "managed: MathNet.Numerics".
    let describe (backend: Backend) =
        match backend with
        | Backend.Native -> "native: " + Native.describe ()
        | Backend.Managed -> "managed: MathNet.Numerics 5 managed provider + Qmmm pivoted QR"

    /// Eigen-decomposition of a symmetric n×n matrix `a` (`dsyevd`): struct (eigenvalues ascending (n),
    /// orthonormal eigenvectors as columns (n×n column-major)). `a` must be symmetric to 1e-8 relative.
    let symmetricEigen (backend: Backend) (n: int, a: float[]) : struct (float[] * float[]) =
        match backend with
        | Backend.Native -> Native.symmetricEigen (n, a)
        | Backend.Managed -> Managed.symmetricEigen (n, a)

    /// Generalized symmetric-definite eigenproblem A c = λ B c (`dsygvd`, itype 1): A symmetric, B symmetric
    /// positive definite (n×n). Returns struct (λ ascending, eigenvectors as columns, B-normalised: cᵀ B c = 1).
    /// Raises `QmmmException` "dsygvd: B is not positive definite (info = …)" otherwise. Tight binding's
    /// H c = ε S c.
    let generalizedSymmetricEigen (backend: Backend) (a: float[], b: float[], n: int) : struct (float[] * float[]) =
        match backend with
        | Backend.Native -> Native.generalizedSymmetricEigen (a, b, n)
        | Backend.Managed -> Managed.generalizedSymmetricEigen (a, b, n)

    /// Column-pivoted (rank-revealing) Householder QR A P = Q R of an m×n matrix (`dgeqp3`, Businger–Golub):
    /// |R_00| ≥ |R_11| ≥ … ; compact LAPACK form (see `PivotedQr`).
    let qrPivoted (backend: Backend) (m: int, n: int, a: float[]) : PivotedQr =
        match backend with
        | Backend.Native -> Native.qrPivoted (m, n, a)
        | Backend.Managed -> Managed.qrPivoted (m, n, a)

    /// The thin orthogonal factor Q (m×min(m, n), column-major, orthonormal columns) of a pivoted QR (`dorgqr`).
    let qrQ (backend: Backend) (qr: PivotedQr) : float[] =
        match backend with
        | Backend.Native -> Native.qrQ qr
        | Backend.Managed -> Managed.qrQ qr

    /// The upper-trapezoidal factor R (min(m, n)×n, column-major, zeros below the diagonal) of a pivoted QR.
    let qrR (qr: PivotedQr) : float[] =
        Checks.qr qr
        let m = qr.Rows
        let n = qr.Columns
        let k = min m n
        let r = Array.zeroCreate (k * n)

        for j in 0 .. n - 1 do
            for i in 0 .. min j (k - 1) do
                r.[i + j * k] <- qr.Factors.[i + j * m]

        r

    /// Numerical rank of a pivoted QR: the number of leading diagonal entries with |R_kk| > tol·|R_00| (tol ≥ 0,
    /// relative; `DefaultRankTolerance` = 1e-5 by DESIGN). 0 when R_00 = 0.
    let rankRevealing (tol: float) (qr: PivotedQr) : int =
        Checks.qr qr
        Validate.finite "tol" tol

        if tol < 0.0 then
            invalidArg "tol" (sprintf "tol must be non-negative, got %g" tol)

        let m = qr.Rows
        let k = min m qr.Columns
        let r00 = abs qr.Factors.[0]
        let mutable rank = 0

        while rank < k && abs qr.Factors.[rank + rank * m] > tol * r00 && r00 > 0.0 do
            rank <- rank + 1

        rank

    /// Overwrites the m-vector `y` by Qᵀ y = H_{k-1} ⋯ H_0 y for a pivoted QR (O(m k); no allocation).
    let applyQt (qr: PivotedQr) (y: float[]) =
        Checks.qr qr
        Validate.length "y" qr.Rows y
        let m = qr.Rows
        let f = qr.Factors

        for i in 0 .. (min m qr.Columns) - 1 do
            let t = qr.Tau.[i]

            if t <> 0.0 then
                let o = i * m
                let mutable w = y.[i]

                for r in i + 1 .. m - 1 do
                    w <- w + f.[o + r] * y.[r]

                let tw = t * w
                y.[i] <- y.[i] - tw

                for r in i + 1 .. m - 1 do
                    y.[r] <- y.[r] - tw * f.[o + r]

    /// Least squares min ‖A x − b‖₂ for an m×n matrix A and b (m entries) through the column-pivoted QR, truncated at
    /// the numerical rank r = `rankRevealing tol`: x_P = [R₁₁⁻¹ (Qᵀ b)_{0..r-1}; 0], x = P x_P — the unique solution
    /// when A has full column rank, a basic solution (not the minimum-norm one) when it is rank deficient. Never
    /// forms the normal equations (STYLE 7). Used by the weighted fit (4.1)-(4.3) with tol = 1e-5.
    let leastSquares (backend: Backend) (tol: float) (m: int, n: int, a: float[], b: float[]) : LeastSquaresSolution =
        Validate.length "b" m b
        Validate.allFinite "b" b
        let qr = qrPivoted backend (m, n, a)
        let rank = rankRevealing tol qr
        let y = Array.copy b
        applyQt qr y
        let f = qr.Factors
        // back substitution R₁₁ z = y_{0..r-1}
        let z = Array.zeroCreate rank

        for i in rank - 1 .. -1 .. 0 do
            let mutable s = y.[i]

            for j in i + 1 .. rank - 1 do
                s <- s - f.[i + j * m] * z.[j]

            z.[i] <- s / f.[i + i * m]

        let x = Array.zeroCreate n

        for j in 0 .. rank - 1 do
            x.[qr.Permutation.[j]] <- z.[j]

        let res = Array.map (fun v -> -v) b

        for j in 0 .. n - 1 do
            let xj = x.[j]

            if xj <> 0.0 then
                for i in 0 .. m - 1 do
                    res.[i] <- res.[i] + a.[i + j * m] * xj

        let mutable ss = 0.0

        for v in res do
            ss <- ss + v * v

        { Solution = x
          Rank = rank
          Residual = sqrt ss }

    /// General matrix product C := α op(A) op(B) + β C (`dgemm`): op(X) = X, or Xᵀ when the flag is set; op(A) is
    /// m×k, op(B) k×n, C m×n and is overwritten. A is stored m×k (k×m when transposed), B k×n (n×k when transposed).
    let gemm
        (backend: Backend)
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
        match backend with
        | Backend.Native -> Native.gemm (transA, transB, m, n, k, alpha, a, b, beta, c)
        | Backend.Managed -> Managed.gemm (transA, transB, m, n, k, alpha, a, b, beta, c)

    /// The same operations on `defaultBackend`.
    [<RequireQualifiedAccess>]
    module Default =

        /// `symmetricEigen defaultBackend`: eigenvalues ascending and orthonormal eigenvectors of a symmetric matrix.
        let symmetricEigen (n: int, a: float[]) = symmetricEigen defaultBackend (n, a)

        /// `generalizedSymmetricEigen defaultBackend`: A c = λ B c with B-normalised eigenvectors.
        let generalizedSymmetricEigen (a: float[], b: float[], n: int) =
            generalizedSymmetricEigen defaultBackend (a, b, n)

        /// `qrPivoted defaultBackend`: column-pivoted QR A P = Q R.
        let qrPivoted (m: int, n: int, a: float[]) = qrPivoted defaultBackend (m, n, a)

        /// `leastSquares defaultBackend DefaultRankTolerance`: rank-revealing least squares with tol = 1e-5.
        let leastSquares (m: int, n: int, a: float[], b: float[]) =
            leastSquares defaultBackend DefaultRankTolerance (m, n, a, b)

        /// `gemm defaultBackend`: C := α op(A) op(B) + β C.
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
            gemm defaultBackend (transA, transB, m, n, k, alpha, a, b, beta, c)
