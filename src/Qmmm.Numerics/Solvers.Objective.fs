namespace Qmmm.Numerics

open System
open System.Threading

/// A smooth objective φ: R^n → R for the minimisers (Solvers.Lbfgs.fs, Solvers.Newton.fs): `Evaluate x g` returns φ(x)
/// and writes the gradient ∇φ(x) into `g` (n entries). For a relaxation φ is the energy-difference functional (2.7)
/// and ∇φ = −F on the free atoms.
type Objective =
    {
        /// Number of unknowns n (>= 1).
        Dimension: int
        /// φ(x) (returned) and ∇φ(x) (written into the second argument).
        Evaluate: float[] -> float[] -> float
    }

/// A symmetric positive-definite preconditioner P (Solvers.Preconditioner.fs): `Solve r z` writes z = P⁻¹ r and
/// `Multiply s w` writes w = P s. The identity is `Preconditioner.identity`.
type Preconditioner =
    {
        /// Human-readable name ("identity", "exp-laplacian").
        Name: string
        /// z = P⁻¹ r (r, z of length n; may not alias).
        Solve: float[] -> float[] -> unit
        /// w = P s (s, w of length n; may not alias).
        Multiply: float[] -> float[] -> unit
    }

/// One line of solver progress, passed to `SolverSettings.Progress` after every iteration.
type SolverProgress =
    {
        /// "lbfgs" or "newton".
        Method: string
        /// Iterations of this method so far.
        Iteration: int
        /// φ at the current iterate (eV for a relaxation).
        Value: float
        /// ‖∇φ‖∞ at the current iterate (eV/Å for a relaxation).
        Residual: float
    }

/// Tunable settings of the solvers (STYLE 4): start from `SolverSettings.Defaults`.
type SolverSettings =
    {
        /// Stop once ‖∇φ‖∞ <= Tolerance (eV/Å for relaxations); default 1e-8.
        Tolerance: float
        /// Iteration cap of the L-BFGS stage (>= 1); default 10000.
        MaxIterations: int
        /// Iteration cap of the Newton–Krylov polish (>= 0; 0 = no polish); default 20.
        MaxNewtonIterations: int
        /// Switch from L-BFGS to the Newton polish once ‖∇φ‖∞ <= NewtonSwitch (or when the line search stalls);
        /// default 1e-5. Set it below Tolerance to use L-BFGS alone.
        NewtonSwitch: float
        /// L-BFGS memory (number of (s, y) pairs, >= 1); default 20.
        Memory: int
        /// Largest displacement of one unknown in a line-search trial step (Å); default 0.2.
        MaxStep: float
        /// Step δ (Å) of the directional differences H v ≈ (∇φ(x + h v) − ∇φ(x − h v)) / 2h, h = δ / ‖v‖∞; default 1e-4.
        DifferenceStep: float
        /// True when ∇φ is a gradient (minimisation): the Newton steps solve H δ = −∇φ by flexible preconditioned CG
        /// (symmetric H, no restarts); false: by flexible GMRES(60) (any Jacobian, e.g. force mixing). Default true.
        Symmetric: bool
        /// Called after every iteration (progress reports); default ignores it.
        Progress: SolverProgress -> unit
        /// Checked once per iteration; a cancelled token raises `OperationCanceledException`.
        Cancellation: CancellationToken
    }

    /// Defaults: tolerance 1e-8, 10000 L-BFGS and 20 Newton iterations, switch at 1e-5, memory 20, max step 0.2 Å,
    /// difference step 1e-4 Å, symmetric (CG) Newton steps, no progress, no
    /// cancellation.
    static member Defaults =
        { Tolerance = 1e-8
          MaxIterations = 10000
          MaxNewtonIterations = 20
          NewtonSwitch = 1e-5
          Memory = 20
          MaxStep = 0.2
          DifferenceStep = 1e-4
          Symmetric = true
          Progress = ignore
          Cancellation = CancellationToken.None }

/// What a solver did: the minimiser, its value and residual, and the work spent.
type SolverReport =
    {
        /// The final iterate x (n entries).
        X: float[]
        /// φ(x).
        Value: float
        /// ‖∇φ(x)‖∞.
        Residual: float
        /// L-BFGS iterations.
        Iterations: int
        /// Newton iterations of the polish.
        NewtonIterations: int
        /// Objective (gradient) evaluations in total, including the line searches and Hessian–vector products.
        Evaluations: int
        /// ‖∇φ‖∞ after each Newton iteration (the first entry: before the polish); empty without a polish.
        NewtonResiduals: float[]
        /// Wall-clock time (s).
        Seconds: float
    }

/// Dense-vector helpers shared by the solvers (flat arrays, no allocation).
[<RequireQualifiedAccess>]
module internal Vector =

    let dot (a: float[]) (b: float[]) =
        let mutable s = 0.0

        for i in 0 .. a.Length - 1 do
            s <- s + a.[i] * b.[i]

        s

    let normInf (a: float[]) =
        let mutable m = 0.0

        for v in a do
            let av = abs v

            if av > m || Double.IsNaN av then
                m <- av

        m

    /// y ← y + c x.
    let axpy (c: float) (x: float[]) (y: float[]) =
        for i in 0 .. x.Length - 1 do
            y.[i] <- y.[i] + c * x.[i]

    /// z ← x + c y.
    let addScaled (x: float[]) (c: float) (y: float[]) (z: float[]) =
        for i in 0 .. x.Length - 1 do
            z.[i] <- x.[i] + c * y.[i]

/// The identity preconditioner.
[<RequireQualifiedAccess>]
module Preconditioner =

    /// P = I: z = r.
    let identity: Preconditioner =
        { Name = "identity"
          Solve = fun r z -> Array.blit r 0 z 0 r.Length
          Multiply = fun s w -> Array.blit s 0 w 0 s.Length }
