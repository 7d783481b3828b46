/// The solvers on problems with known answers: a convex quadratic (minimiser from a dense solve), the Rosenbrock
/// function (minimiser (1, 1)), GMRES and CG against dense solves, and loud failures (ConvergenceException).
module Qmmm.Numerics.Tests.SolversMinimise

open System
open Expecto
open Qmmm.Numerics

/// A symmetric positive-definite n×n matrix (row-major) with condition number ~ 100, from a fixed seed.
let spd (n: int) (seed: int) =
    let rng = Random(seed)
    let b = Array.init (n * n) (fun _ -> rng.NextDouble() - 0.5)
    let a = Array.zeroCreate (n * n)

    for i in 0 .. n - 1 do
        for j in 0 .. n - 1 do
            let mutable s = 0.0

            for k in 0 .. n - 1 do
                s <- s + b.[i * n + k] * b.[j * n + k]

            a.[i * n + j] <- s + (if i = j then 0.05 * float n else 0.0)

    a

let matVec (n: int) (a: float[]) (x: float[]) (y: float[]) =
    for i in 0 .. n - 1 do
        let mutable s = 0.0

        for j in 0 .. n - 1 do
            s <- s + a.[i * n + j] * x.[j]

        y.[i] <- s

/// Dense solve by MathNet's LU (the oracle).
let dense (n: int) (a: float[]) (b: float[]) =
    let m =
        MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.Dense(n, n, fun i j -> a.[i * n + j])

    (m.Solve(MathNet.Numerics.LinearAlgebra.Vector<float>.Build.DenseOfArray b)).ToArray()

let rosenbrock =
    { Dimension = 2
      Evaluate =
        fun x g ->
            let a, b = x.[0], x.[1]
            g.[0] <- -2.0 * (1.0 - a) - 400.0 * a * (b - a * a)
            g.[1] <- 200.0 * (b - a * a)
            (1.0 - a) ** 2.0 + 100.0 * (b - a * a) ** 2.0 }

[<Tests>]
let tests =
    testList
        "Qmmm.Numerics.Solvers.Minimise"
        [ testCase "L-BFGS alone minimises a convex quadratic ½xᵀAx − bᵀx to the dense solution A⁻¹b"
          <| fun () ->
              let n = 40
              let a = spd n 7
              let b = Array.init n (fun i -> sin (float i))
              let ax = Array.zeroCreate n

              let obj =
                  { Dimension = n
                    Evaluate =
                      fun x g ->
                          matVec n a x ax

                          for i in 0 .. n - 1 do
                              g.[i] <- ax.[i] - b.[i]

                          0.5 * Vector.dot x ax - Vector.dot b x }

              let settings =
                  { SolverSettings.Defaults with
                      Tolerance = 1e-10
                      MaxNewtonIterations = 0
                      MaxStep = 100.0 }

              let r = Minimise.run settings Preconditioner.identity obj (Array.zeroCreate n)
              let exact = dense n a b

              for i in 0 .. n - 1 do
                  Expect.floatClose { absolute = 1e-9; relative = 0.0 } r.X.[i] exact.[i] (sprintf "x[%d]" i)

              Expect.isLessThanOrEqual r.Residual 1e-10 "residual"
              Expect.equal r.NewtonIterations 0 "no polish"

          testCase "L-BFGS + Newton polish find the Rosenbrock minimum (1, 1) from (−1.2, 1) to ‖∇φ‖∞ <= 1e-12"
          <| fun () ->
              let settings =
                  { SolverSettings.Defaults with
                      Tolerance = 1e-12
                      NewtonSwitch = 1e-4
                      MaxStep = 1.0
                      DifferenceStep = 1e-5 }

              let r = Minimise.run settings Preconditioner.identity rosenbrock [| -1.2; 1.0 |]
              Expect.floatClose { absolute = 1e-10; relative = 0.0 } r.X.[0] 1.0 "x"
              Expect.floatClose { absolute = 1e-10; relative = 0.0 } r.X.[1] 1.0 "y"
              Expect.isGreaterThan r.NewtonIterations 0 "polished"

          testCase "an iteration cap gives a ConvergenceException naming iterations, residual and tolerance"
          <| fun () ->
              let settings =
                  { SolverSettings.Defaults with
                      Tolerance = 1e-12
                      MaxIterations = 3
                      MaxNewtonIterations = 0 }

              let ex =
                  try
                      Minimise.run settings Preconditioner.identity rosenbrock [| -1.2; 1.0 |]
                      |> ignore

                      None
                  with :? ConvergenceException as ex ->
                      Some ex

              let ex = ex.Value
              Expect.equal ex.Iterations 3 "iterations"
              Expect.equal ex.Tolerance 1e-12 "tolerance"
              Expect.isGreaterThan ex.Residual 1e-12 "residual above tolerance"
              Expect.stringContains ex.Message "after 3 iterations" "message names the iterations"
              Expect.stringContains ex.Message "tolerance 1.000e-12" "message names the tolerance"
              Expect.stringContains ex.Message "iteration cap 3" "message names the cause"

          testCase
              "GMRES solves a non-symmetric system to 1e-12 (dense LU oracle); CG and flexible PCG solve an SPD one"
          <| fun () ->
              let n = 30
              let a = spd n 11
              // make it non-symmetric
              for i in 0 .. n - 1 do
                  a.[i * n + (i + 1) % n] <- a.[i * n + (i + 1) % n] + 0.7

              let b = Array.init n (fun i -> cos (float i))

              let struct (x, rel, _) =
                  Krylov.gmres (matVec n a) (fun r z -> Array.blit r 0 z 0 n) 10 1e-13 10000 b

              let exact = dense n a b
              Expect.isLessThanOrEqual rel 1e-13 "relative residual"

              for i in 0 .. n - 1 do
                  Expect.floatClose { absolute = 1e-10; relative = 0.0 } x.[i] exact.[i] (sprintf "x[%d]" i)

              let s = spd n 12
              let xc = Array.zeroCreate n
              let diag = Array.init n (fun i -> s.[i * n + i])
              let its = Krylov.cg (matVec n s) diag 1e-13 1000 b xc
              let exact = dense n s b
              Expect.isLessThan its 1000 "CG converged"

              for i in 0 .. n - 1 do
                  Expect.floatClose { absolute = 1e-10; relative = 0.0 } xc.[i] exact.[i] (sprintf "cg x[%d]" i)

              // flexible PCG with the Jacobi preconditioner
              let struct (xp, relp, _) =
                  Krylov.pcg (matVec n s) (fun r z -> Array.iteri (fun i v -> z.[i] <- v / diag.[i]) r) 1e-13 1000 b

              Expect.isLessThanOrEqual relp 1e-13 "pcg relative residual"

              for i in 0 .. n - 1 do
                  Expect.floatClose { absolute = 1e-10; relative = 0.0 } xp.[i] exact.[i] (sprintf "pcg x[%d]" i) ]
