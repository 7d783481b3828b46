/// Dense linear algebra: native (LAPACKE/OpenBLAS) and managed backends against closed forms, residuals, naive loops
/// and each other. Native tests fail with a clear message when the libraries cannot be loaded, unless
/// QMMM_ALLOW_NO_NATIVE=1 (then they are skipped).
module Qmmm.Numerics.Tests.LinearAlgebra

open System
open System.Runtime.InteropServices
open Expecto
open FsCheck
open FsCheck.FSharp
open Qmmm.Numerics
open Qmmm.Numerics.Tests.Generators

// ---- helpers (independent of the code under test) ----

/// Entry (i, j) of a column-major matrix with `rows` rows.
let inline private at (rows: int) (a: float[]) (i: int) (j: int) = a.[i + j * rows]

/// Random m×n column-major matrix with entries uniform in [-1, 1].
let private randomMatrix (rng: Random) (m: int) (n: int) =
    Array.init (m * n) (fun _ -> 2.0 * rng.NextDouble() - 1.0)

/// Random symmetric n×n matrix with entries uniform in [-1, 1].
let private randomSymmetric (rng: Random) (n: int) =
    let a = Array.zeroCreate (n * n)

    for j in 0 .. n - 1 do
        for i in j .. n - 1 do
            let x = 2.0 * rng.NextDouble() - 1.0
            a.[i + j * n] <- x
            a.[j + i * n] <- x

    a

/// Random symmetric positive definite n×n matrix MᵀM/n + I (eigenvalues in [1, ~5]).
let private randomSpd (rng: Random) (n: int) =
    let m = randomMatrix rng n n
    let b = Array.zeroCreate (n * n)

    for j in 0 .. n - 1 do
        for i in 0 .. n - 1 do
            let mutable s = if i = j then 1.0 else 0.0

            for p in 0 .. n - 1 do
                s <- s + at n m p i * at n m p j / float n

            b.[i + j * n] <- s

    b

/// Naive C = op(A) op(B) (triple loop): the oracle for gemm.
let private naiveProduct (transA: bool) (transB: bool) (m: int) (n: int) (k: int) (a: float[]) (b: float[]) =
    let opA i p =
        if transA then a.[p + i * k] else a.[i + p * m]

    let opB p j =
        if transB then b.[j + p * n] else b.[p + j * k]

    let c = Array.zeroCreate (m * n)

    for j in 0 .. n - 1 do
        for i in 0 .. m - 1 do
            let mutable s = 0.0

            for p in 0 .. k - 1 do
                s <- s + opA i p * opB p j

            c.[i + j * m] <- s

    c

/// Plain matrix product (m×k)(k×n) by a triple loop.
let private mul (m: int) (k: int) (n: int) (a: float[]) (b: float[]) = naiveProduct false false m n k a b

/// Transpose of an m×n column-major matrix.
let private transpose (m: int) (n: int) (a: float[]) =
    Array.init (m * n) (fun idx ->
        let j = idx / n
        let i = idx % n
        a.[j + i * m])

let private maxAbs (a: float[]) =
    a |> Array.fold (fun s x -> max s (abs x)) 0.0

let private maxDiff (a: float[]) (b: float[]) =
    Array.fold2 (fun s x y -> max s (abs (x - y))) 0.0 a b

let private identity n =
    Array.init (n * n) (fun idx -> if idx % n = idx / n then 1.0 else 0.0)

/// max_i ‖A v_i − λ_i B v_i‖∞ over the eigenpairs (B = I when `b` is None).
let private eigenResidual (n: int) (a: float[]) (b: float[] option) (values: float[]) (vectors: float[]) =
    let av = mul n n n a vectors

    let bv =
        match b with
        | Some b -> mul n n n b vectors
        | None -> vectors

    let mutable worst = 0.0

    for j in 0 .. n - 1 do
        for i in 0 .. n - 1 do
            worst <- max worst (abs (at n av i j - values.[j] * at n bv i j))

    worst

/// Solves the small dense system M x = y by Gaussian elimination with partial pivoting (test oracle).
let private gaussSolve (n: int) (m: float[]) (y: float[]) =
    let a = Array.copy m
    let x = Array.copy y

    for c in 0 .. n - 1 do
        let mutable p = c

        for r in c + 1 .. n - 1 do
            if abs (at n a r c) > abs (at n a p c) then
                p <- r

        for j in 0 .. n - 1 do
            let t = a.[c + j * n]
            a.[c + j * n] <- a.[p + j * n]
            a.[p + j * n] <- t

        let t = x.[c]
        x.[c] <- x.[p]
        x.[p] <- t

        for r in c + 1 .. n - 1 do
            let f = at n a r c / at n a c c

            for j in c .. n - 1 do
                a.[r + j * n] <- a.[r + j * n] - f * a.[c + j * n]

            x.[r] <- x.[r] - f * x.[c]

    for r in n - 1 .. -1 .. 0 do
        let mutable s = x.[r]

        for j in r + 1 .. n - 1 do
            s <- s - at n a r j * x.[j]

        x.[r] <- s / at n a r r

    x

// ---- backends and the native guard ----

let private allowNoNative =
    Environment.GetEnvironmentVariable "QMMM_ALLOW_NO_NATIVE" = "1"

/// `test` itself when native LAPACK loads; otherwise a case that fails with the reason (or is skipped when
/// QMMM_ALLOW_NO_NATIVE=1).
let private nativeOnly (name: string) (test: Test) =
    if Native.available () then
        test
    else
        testCase name
        <| fun () ->
            let why =
                sprintf
                    "native LAPACK is %s; run scripts/setup.sh (liblapacke, libopenblas0-pthread) or set QMMM_ALLOW_NO_NATIVE=1"
                    (Native.describe ())

            if allowNoNative then Tests.skiptest why else failtest why

/// One case per backend: "(managed)" always runs; "(native)" is guarded by `nativeOnly`.
let private bothBackends (name: string) (body: Backend -> unit) =
    [ testCase (name + " (managed)") (fun () -> body Backend.Managed)
      nativeOnly (name + " (native)") (testCase (name + " (native)") (fun () -> body Backend.Native)) ]

let private la = LinearAlgebra.symmetricEigen

/// Native and managed eigenpairs of one random symmetric n×n matrix agree: values to 1e-10, vectors up to sign.
let private backendsAgree (n: int, seed: int) =
    let a = randomSymmetric (Random seed) n
    let struct (wn, vn) = la Backend.Native (n, a)
    let struct (wm, vm) = la Backend.Managed (n, a)

    for k in 0 .. n - 1 do
        Expect.floatClose { absolute = 1e-10; relative = 1e-10 } wn.[k] wm.[k] (sprintf "λ_%d" k)
        // eigenvectors agree up to sign: |v·w| = 1 (1 − cos θ ≈ θ²/2)
        let mutable dot = 0.0

        for i in 0 .. n - 1 do
            dot <- dot + at n vn i k * at n vm i k

        Expect.isLessThan (1.0 - abs dot) 1e-10 (sprintf "|v_%d · w_%d| = 1 (n = %d, seed %d)" k k n seed)

// ---- tests ----

let private eigenTests =
    [ yield!
          bothBackends "the 2x2 symmetric eigenproblem matches its closed form"
          <| fun backend ->
              for (p, q, r) in [ (2.0, 1.0, 3.0); (-1.5, 0.25, 4.0); (1.0, -2.0, 1.0); (0.0, 1e-3, 0.0) ] do
                  // [[p, q], [q, r]]: λ = (p + r)/2 ± √(((p − r)/2)² + q²)
                  let struct (w, v) = la backend (2, [| p; q; q; r |])
                  let mean = 0.5 * (p + r)
                  let rad = sqrt (0.25 * (p - r) * (p - r) + q * q)
                  Expect.floatClose Accuracy.veryHigh w.[0] (mean - rad) "smaller eigenvalue"
                  Expect.floatClose Accuracy.veryHigh w.[1] (mean + rad) "larger eigenvalue"
                  // the eigenvector of λ is ∝ (q, λ − p) when q ≠ 0
                  for k in 0..1 do
                      let ex = q
                      let ey = w.[k] - p
                      let en = sqrt (ex * ex + ey * ey)
                      let dot = abs (v.[2 * k] * ex / en + v.[2 * k + 1] * ey / en)
                      Expect.floatClose Accuracy.veryHigh dot 1.0 (sprintf "eigenvector %d direction" k)
      yield!
          bothBackends "a diagonal matrix has its sorted diagonal as eigenvalues and unit eigenvectors"
          <| fun backend ->
              let d = [| 3.0; -1.0; 7.5; 0.0; 2.0 |]
              let n = d.Length

              let a =
                  Array.init (n * n) (fun idx -> if idx % n = idx / n then d.[idx % n] else 0.0)

              let struct (w, v) = la backend (n, a)
              let sorted = Array.sort d

              for k in 0 .. n - 1 do
                  Expect.floatClose Accuracy.veryHigh w.[k] sorted.[k] (sprintf "λ_%d is the sorted diagonal" k)
                  let src = Array.IndexOf(d, sorted.[k])

                  for i in 0 .. n - 1 do
                      let expected = if i = src then 1.0 else 0.0
                      Expect.floatClose Accuracy.veryHigh (abs (at n v i k)) expected (sprintf "|v[%d,%d]|" i k)
      yield!
          bothBackends "eigenpairs of random symmetric matrices have residual below 1e-12 and orthonormal vectors"
          <| fun backend ->
              let rng = Random 11

              for n in [ 1; 3; 17; 64 ] do
                  let a = randomSymmetric rng n
                  let copy = Array.copy a
                  let struct (w, v) = la backend (n, a)
                  Expect.sequenceEqual a copy "input is not modified"
                  Expect.isLessThan (eigenResidual n a None w v) (1e-12 * float n) (sprintf "‖Av − λv‖∞, n = %d" n)
                  let vtv = mul n n n (transpose n n v) v
                  Expect.isLessThan (maxDiff vtv (identity n)) 1e-12 (sprintf "VᵀV = I, n = %d" n)

                  for k in 1 .. n - 1 do
                      Expect.isLessThanOrEqual w.[k - 1] w.[k] "ascending"
      nativeOnly
          "native and managed agree to 1e-10 on random symmetric matrices"
          (testPropertyWithConfig
              { config with maxTest = 40 }
              "native and managed agree to 1e-10 on random symmetric matrices"
              (Prop.forAll (Arb.fromGen (Gen.zip (Gen.choose (1, 60)) (Gen.choose (0, 1_000_000)))) backendsAgree)) ]

let private generalizedTests =
    [ yield!
          bothBackends "the 2x2 generalized problem with diagonal B matches its closed form"
          <| fun backend ->
              // A = [[p, q], [q, r]], B = diag(s, t): λ are the eigenvalues of B^{-1/2} A B^{-1/2}
              let p, q, r, s, t = 2.0, 0.7, -1.0, 4.0, 0.5

              let struct (w, c) =
                  LinearAlgebra.generalizedSymmetricEigen backend ([| p; q; q; r |], [| s; 0.0; 0.0; t |], 2)

              let p', q', r' = p / s, q / sqrt (s * t), r / t
              let mean = 0.5 * (p' + r')
              let rad = sqrt (0.25 * (p' - r') * (p' - r') + q' * q')
              Expect.floatClose Accuracy.veryHigh w.[0] (mean - rad) "smaller eigenvalue"
              Expect.floatClose Accuracy.veryHigh w.[1] (mean + rad) "larger eigenvalue"

              for k in 0..1 do
                  let norm = s * c.[2 * k] * c.[2 * k] + t * c.[2 * k + 1] * c.[2 * k + 1]
                  Expect.floatClose Accuracy.veryHigh norm 1.0 (sprintf "cᵀBc = 1 for vector %d" k)
      yield!
          bothBackends "random generalized problems have residual below 1e-11 and B-orthonormal vectors"
          <| fun backend ->
              let rng = Random 23

              for n in [ 1; 4; 30; 80 ] do
                  let a = randomSymmetric rng n
                  let b = randomSpd rng n
                  let a0, b0 = Array.copy a, Array.copy b
                  let struct (w, c) = LinearAlgebra.generalizedSymmetricEigen backend (a, b, n)
                  Expect.sequenceEqual a a0 "A is not modified"
                  Expect.sequenceEqual b b0 "B is not modified"
                  Expect.isLessThan (eigenResidual n a (Some b) w c) (1e-11 * float n) (sprintf "‖Ac − λBc‖∞, n = %d" n)
                  let ctbc = mul n n n (transpose n n c) (mul n n n b c)
                  Expect.isLessThan (maxDiff ctbc (identity n)) 1e-11 (sprintf "CᵀBC = I, n = %d" n)
      nativeOnly "native and managed generalized eigenvalues agree to 1e-10"
      <| testCase "native and managed generalized eigenvalues agree to 1e-10" (fun () ->
          let rng = Random 5

          for n in [ 2; 9; 50 ] do
              let a = randomSymmetric rng n
              let b = randomSpd rng n

              let struct (wn, cn) =
                  LinearAlgebra.generalizedSymmetricEigen Backend.Native (a, b, n)

              let struct (wm, cm) =
                  LinearAlgebra.generalizedSymmetricEigen Backend.Managed (a, b, n)

              for k in 0 .. n - 1 do
                  Expect.floatClose { absolute = 1e-10; relative = 1e-10 } wn.[k] wm.[k] (sprintf "λ_%d, n = %d" k n)
                  // B-normalised eigenvectors agree up to sign: |c_nᵀ B c_m| = 1
                  let bc = mul n n 1 b (Array.sub cm (k * n) n)
                  let dot = Array.fold2 (fun s x y -> s + x * y) 0.0 (Array.sub cn (k * n) n) bc
                  Expect.isLessThan (1.0 - abs dot) 1e-10 (sprintf "|c_nᵀ B c_m| = 1 for k = %d" k))
      yield!
          bothBackends "an indefinite B raises a QmmmException naming dsygvd and the failing minor"
          <| fun backend ->
              // B = diag(1, 1, -1, 1): its leading minor of order 3 is negative, so LAPACK's info = n + 3 = 7
              let n = 4

              let b =
                  Array.init 16 (fun idx ->
                      if idx % 5 = 0 then
                          (if idx = 10 then -1.0 else 1.0)
                      else
                          0.0)

              let e =
                  Expect.throwsC
                      (fun () -> LinearAlgebra.generalizedSymmetricEigen backend (identity n, b, n) |> ignore)
                      id

              Expect.isTrue (e :? QmmmException) (sprintf "QmmmException, got %s" (e.GetType().Name))
              Expect.stringContains e.Message "dsygvd" "names the routine"
              Expect.stringContains e.Message "B is not positive definite (info = 7" "states the condition and info"
              Expect.stringContains e.Message "order 3" "names the minor" ]

/// Checks the defining properties of a pivoted QR of the m×n matrix a.
let private checkQr (backend: Backend) (m: int) (n: int) (a: float[]) =
    let qr = LinearAlgebra.qrPivoted backend (m, n, a)
    let k = min m n
    let q = LinearAlgebra.qrQ backend qr
    let r = LinearAlgebra.qrR qr
    Expect.sequenceEqual (Array.sort qr.Permutation) [| 0 .. n - 1 |] "the permutation is a permutation"
    // A P: column j is column perm[j] of A
    let ap = Array.init (m * n) (fun idx -> a.[idx % m + qr.Permutation.[idx / m] * m])
    let scale = max 1.0 (maxAbs a)
    Expect.isLessThan (maxDiff (mul m k n q r) ap) (1e-12 * scale) (sprintf "A P = Q R (%d×%d)" m n)
    Expect.isLessThan (maxDiff (mul k m k (transpose m k q) q) (identity k)) 1e-12 "QᵀQ = I"

    for j in 0 .. n - 1 do
        for i in j + 1 .. k - 1 do
            Expect.equal (at k r i j) 0.0 "R is upper triangular"

    for i in 1 .. k - 1 do
        let prev = abs (at k r (i - 1) (i - 1))
        let cur = abs (at k r i i)

        Expect.isLessThanOrEqual
            cur
            (prev * (1.0 + 1e-12) + 1e-14 * scale)
            (sprintf "|R_%d%d| ≤ |R_%d%d|" i i (i - 1) (i - 1))

    qr

let private qrTests =
    [ yield!
          bothBackends "pivoted QR reconstructs A P = Q R to 1e-12 with non-increasing |diag R|"
          <| fun backend ->
              let rng = Random 3

              for (m, n) in [ (1, 1); (30, 12); (12, 30); (25, 25); (7, 1); (1, 6) ] do
                  let a = randomMatrix rng m n
                  let a0 = Array.copy a
                  checkQr backend m n a |> ignore
                  Expect.sequenceEqual a a0 "input is not modified"
      yield!
          bothBackends "pivoted QR finds the rank of a constructed rank-deficient matrix"
          <| fun backend ->
              let rng = Random 8

              for (m, n, rank) in [ (40, 15, 5); (15, 40, 7); (20, 20, 1); (30, 10, 10) ] do
                  // A = U Vᵀ with U m×r, V n×r random: rank r exactly
                  let u = randomMatrix rng m rank
                  let v = randomMatrix rng n rank
                  let a = mul m rank n u (transpose n rank v)
                  let qr = checkQr backend m n a
                  Expect.equal (LinearAlgebra.rankRevealing LinearAlgebra.DefaultRankTolerance qr) rank "numerical rank"

                  if rank < min m n then
                      let r = abs qr.Factors.[rank + rank * m] / abs qr.Factors.[0]
                      Expect.isLessThan r 1e-12 "|R_rr| / |R_00| is at rounding level past the rank"
      yield!
          bothBackends "pivoted QR of a matrix with a zero column puts it last and reports rank n − 1"
          <| fun backend ->
              let rng = Random 4
              let m, n = 9, 5
              let a = randomMatrix rng m n

              for i in 0 .. m - 1 do
                  a.[i + 2 * m] <- 0.0

              let qr = checkQr backend m n a
              Expect.equal qr.Permutation.[n - 1] 2 "the zero column is pivoted last"
              Expect.equal (LinearAlgebra.rankRevealing 1e-5 qr) (n - 1) "rank"
      yield!
          bothBackends "the numerical rank of a scaled diagonal matrix follows the relative tolerance"
          <| fun backend ->
              // columns scaled by 1e-6, 1, 1e-9, 1e-3: R = the sorted diagonal, so the rank counts d_k > tol·d_max
              let d = [| 1e-6; 1.0; 1e-9; 1e-3 |]
              let a = Array.init 16 (fun idx -> if idx % 5 = 0 then d.[idx / 4] else 0.0)
              let qr = LinearAlgebra.qrPivoted backend (4, 4, a)
              Expect.sequenceEqual qr.Permutation [| 1; 3; 0; 2 |] "columns in decreasing norm"

              for (tol, rank) in [ (0.5, 1); (1e-5, 2); (1e-7, 3); (0.0, 4) ] do
                  Expect.equal (LinearAlgebra.rankRevealing tol qr) rank (sprintf "rank at tol = %g" tol)
      nativeOnly "native and managed pivoted QR choose the same pivots and |diag R|"
      <| testCase "native and managed pivoted QR choose the same pivots and |diag R|" (fun () ->
          let rng = Random 21

          for (m, n) in [ (30, 12); (12, 30); (40, 40) ] do
              let a = randomMatrix rng m n
              let qn = LinearAlgebra.qrPivoted Backend.Native (m, n, a)
              let qm = LinearAlgebra.qrPivoted Backend.Managed (m, n, a)
              Expect.sequenceEqual qn.Permutation qm.Permutation "same pivots"

              for i in 0 .. (min m n) - 1 do
                  Expect.floatClose
                      { absolute = 1e-10; relative = 1e-10 }
                      (abs qn.Factors.[i + i * m])
                      (abs qm.Factors.[i + i * m])
                      (sprintf "|R_%d%d|" i i)) ]

let private leastSquaresTests =
    [ yield!
          bothBackends "least squares matches the normal-equation solution on well-conditioned problems"
          <| fun backend ->
              let rng = Random 17

              for (m, n) in [ (50, 8); (12, 12); (200, 3) ] do
                  let a = randomMatrix rng m n
                  let b = randomMatrix rng m 1

                  let sol =
                      LinearAlgebra.leastSquares backend LinearAlgebra.DefaultRankTolerance (m, n, a, b)

                  let aT = transpose m n a
                  let x = gaussSolve n (mul n m n aT a) (mul n m 1 aT b)
                  Expect.equal sol.Rank n "full column rank"

                  for j in 0 .. n - 1 do
                      Expect.floatClose { absolute = 1e-10; relative = 1e-9 } sol.Solution.[j] x.[j] (sprintf "x_%d" j)

                  let norm (v: float[]) = sqrt (Array.sumBy (fun e -> e * e) v)
                  let ours = norm (Array.map2 (-) (mul m n 1 a sol.Solution) b)
                  let normalEq = norm (Array.map2 (-) (mul m n 1 a x) b)

                  Expect.floatClose
                      { absolute = 1e-12; relative = 1e-12 }
                      sol.Residual
                      ours
                      "reported residual = ‖Ax − b‖"

                  Expect.isLessThanOrEqual ours (normalEq + 1e-12) "no larger than the normal-equation residual"
      yield!
          bothBackends "least squares recovers an exact solution with zero residual"
          <| fun backend ->
              let rng = Random 2
              let m, n = 30, 6
              let a = randomMatrix rng m n
              let x0 = [| 1.0; -2.0; 0.5; 3.0; 0.0; -0.25 |]
              let b = mul m n 1 a x0
              let sol = LinearAlgebra.leastSquares backend 1e-5 (m, n, a, b)

              for j in 0 .. n - 1 do
                  Expect.floatClose Accuracy.high sol.Solution.[j] x0.[j] (sprintf "x_%d" j)

              Expect.isLessThan sol.Residual 1e-12 "residual"
      yield!
          bothBackends "rank-deficient least squares truncates to the rank and still satisfies Aᵀ(Ax − b) = 0"
          <| fun backend ->
              let rng = Random 29
              let m, n = 40, 6
              let a = randomMatrix rng m n
              // column 4 = column 1 + 2·column 3: rank 5
              for i in 0 .. m - 1 do
                  a.[i + 4 * m] <- a.[i + 1 * m] + 2.0 * a.[i + 3 * m]

              let b = randomMatrix rng m 1
              let sol = LinearAlgebra.leastSquares backend 1e-5 (m, n, a, b)
              Expect.equal sol.Rank 5 "rank"
              Expect.equal (sol.Solution |> Array.filter (fun x -> x = 0.0) |> Array.length) 1 "one basic zero"
              let r = Array.map2 (-) (mul m n 1 a sol.Solution) b
              let g = mul n m 1 (transpose m n a) r
              Expect.isLessThan (maxAbs g) 1e-12 "the gradient Aᵀr of ½‖Ax − b‖² vanishes"
              // the residual equals that of the full-rank problem without the dependent column
              let keep = [| 0; 1; 2; 3; 5 |]
              let a5 = Array.init (m * 5) (fun idx -> a.[idx % m + keep.[idx / m] * m])
              let at5 = transpose m 5 a5
              let x5 = gaussSolve 5 (mul 5 m 5 at5 a5) (mul 5 m 1 at5 b)
              let r5 = Array.map2 (-) (mul m 5 1 a5 x5) b
              Expect.floatClose Accuracy.high sol.Residual (sqrt (Array.sumBy (fun v -> v * v) r5)) "residual" ]

let private gemmTests =
    [ yield!
          bothBackends "gemm equals the naive triple loop for every transpose combination"
          <| fun backend ->
              let rng = Random 13

              for (m, n, k) in [ (1, 1, 1); (7, 5, 3); (33, 17, 64) ] do
                  for transA in [ false; true ] do
                      for transB in [ false; true ] do
                          let a = randomMatrix rng m k
                          let b = randomMatrix rng k n
                          let c = randomMatrix rng m n
                          let alpha, beta = 1.7, -0.3

                          let expected =
                              Array.map2 (fun p c0 -> alpha * p + beta * c0) (naiveProduct transA transB m n k a b) c

                          let out = Array.copy c
                          LinearAlgebra.gemm backend (transA, transB, m, n, k, alpha, a, b, beta, out)

                          Expect.isLessThan
                              (maxDiff out expected)
                              (1e-13 * float k)
                              (sprintf "C (%b, %b, %d×%d×%d)" transA transB m n k) ]

let private validationTests =
    [ yield!
          bothBackends "a non-symmetric matrix is rejected naming the offending entries"
          <| fun backend ->
              let a = [| 1.0; 2.0; 3.0; 4.0 |]
              let e = Expect.throwsC (fun () -> la backend (2, a) |> ignore) id
              Expect.isTrue (e :? ArgumentException) "ArgumentException"
              Expect.stringContains e.Message "a must be symmetric" "message"
              Expect.stringContains e.Message "a[1,0] = 2" "names the entry"
      yield!
          bothBackends "wrong lengths and NaN entries are rejected"
          <| fun backend ->
              Expect.throwsT<ArgumentException> (fun () -> la backend (3, Array.zeroCreate 8) |> ignore) "length n²"
              Expect.throwsT<ArgumentException> (fun () -> la backend (1, [| nan |]) |> ignore) "NaN"

              Expect.throwsT<ArgumentException>
                  (fun () -> LinearAlgebra.qrPivoted backend (3, 2, Array.zeroCreate 5) |> ignore)
                  "QR length m·n"

              Expect.throwsT<ArgumentException>
                  (fun () ->
                      LinearAlgebra.gemm
                          backend
                          (false, false, 2, 2, 2, 1.0, Array.zeroCreate 4, Array.zeroCreate 3, 0.0, Array.zeroCreate 4))
                  "gemm b length"

              Expect.throwsT<ArgumentException>
                  (fun () ->
                      LinearAlgebra.leastSquares backend -1.0 (2, 1, [| 1.0; 2.0 |], [| 1.0; 1.0 |])
                      |> ignore)
                  "negative tolerance" ]

let private statusTests =
    [ testCase "the probe reports a backend and the default backend follows it"
      <| fun () ->
          let s = Native.status ()
          Expect.isNotEmpty s.Description "description"
          let expected = if s.Available then Backend.Native else Backend.Managed
          Expect.equal LinearAlgebra.defaultBackend expected "default backend"
      nativeOnly "the native backend reports OpenBLAS when libopenblas is installed"
      <| testCase "the native backend reports OpenBLAS when libopenblas is installed" (fun () ->
          // independent check that OpenBLAS is on this machine: load it by soname ourselves
          match NativeLibrary.TryLoad "libopenblas.so.0" with
          | true, h ->
              Expect.isTrue (NativeLibrary.TryGetExport(h, "openblas_get_config") |> fst) "OpenBLAS exports its config"
              let s = Native.status ()
              Expect.equal s.Kind NativeKind.OpenBlas (sprintf "backend: %s" s.Description)
              Expect.stringStarts s.OpenBlasConfig "OpenBLAS" "openblas_get_config()"
              Expect.isNotEmpty s.CoreName "openblas_get_corename()"

              if s.LapackPath <> "" then
                  Expect.stringContains s.LapackPath "openblas" "LAPACKE's dsyevd_ comes from OpenBLAS's LAPACK"
          | _ -> Tests.skiptest "libopenblas.so.0 is not installed")
      nativeOnly "setThreads changes OpenBLAS's process-global thread count"
      <| testSequenced (
          testCase "setThreads changes OpenBLAS's process-global thread count" (fun () ->
              let before = Native.threads ()

              try
                  Native.setThreads 1
                  Expect.equal (Native.threads ()) 1 "one thread"

                  if (Native.status ()).Kind = NativeKind.OpenBlas then
                      Native.setThreads 2
                      Expect.equal (Native.threads ()) 2 "two threads"
              finally
                  Native.setThreads before)
      ) ]

/// All linear-algebra tests.
[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.LinearAlgebra"
        [ testList "symmetric eigen" eigenTests
          testList "generalized eigen" generalizedTests
          testList "pivoted QR" qrTests
          testList "least squares" leastSquaresTests
          testList "gemm" gemmTests
          testList "validation" validationTests
          testList "backend" statusTests ]
