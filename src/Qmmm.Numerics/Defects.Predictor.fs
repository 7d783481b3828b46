namespace Qmmm.Numerics

open System
open System.Numerics

/// The anisotropic CLE solution of a straight dislocation along z in Stroh's sextic formalism (Ting, "Anisotropic
/// Elasticity", §5): u(x) = (1/π) Im Σ_α a_α d_α ln(z_α), z_α = (x − x̂) + p_α (y − ŷ), with p_α (Im p_α > 0) the
/// roots of det K(p) = 0, K(p) = Q + p (R + Rᵀ) + p² T, Q_ik = ℂ_i1k1, R_ik = ℂ_i1k2, T_ik = ℂ_i2k2, K(p_α) a_α = 0,
/// l_α = (Rᵀ + p_α T) a_α, and the complex d_α solving 2 Re Σ a_α d_α = b (Burgers circuit) and 2 Re Σ l_α d_α = 0
/// (no net force on the line). ln takes arg in [0, 2π), which puts the jump of u on Γ = {y = ŷ, x > x̂}.
/// Near-degenerate roots (isotropy: p = i three times; W has Zener ratio ≈ 1) make the a_α nearly dependent: then
/// the solution is the Richardson extrapolation of the averages over ℂ ± εE and ℂ ± 2εE (E a cubic perturbation
/// that splits the roots), which is exact to O(ε⁴) (u depends smoothly on ℂ).
type StrohSolution =
    {
        /// The three roots p_α with Im p_α > 0 (per term; several terms when perturbed).
        Roots: Complex[][]
        /// a_α (3 per root, per term).
        A: Complex[][][]
        /// d_α (per term).
        D: Complex[][]
        /// Weight of each term (1 without perturbation; Richardson weights otherwise).
        Weights: float[]
    }

/// CLE far-field predictors u0 of (A.2)–(A.4) for the edge dislocation: the isotropic closed form, the anisotropic
/// Stroh solution, the core smoothing η and the inverse of the map ξ of (A.4), and the slip operators (A.5)–(A.7).
[<RequireQualifiedAccess>]
module Cle =

    /// Argument of (x, y) in [0, 2π) (the branch cut along the positive x axis).
    let angle (x: float) (y: float) =
        let t = Math.Atan2(y, x)
        if t < 0.0 then t + 2.0 * Math.PI else t

    /// The isotropic edge dislocation (Hirth & Lothe, eq. 3-45) with Burgers vector (b, 0, 0) along x, line along z,
    /// Poisson ratio ν, at (x, y) relative to the core: u_x = b/2π [θ + xy / (2(1−ν) r²)],
    /// u_y = −b/2π [(1−2ν)/(4(1−ν)) ln r² + (x² − y²)/(4(1−ν) r²)], u_z = 0, θ ∈ [0, 2π).
    let isotropicEdge (nu: float) (b: float) (x: float) (y: float) : Vec3 =
        let r2 = x * x + y * y
        let t = angle x y
        let c = b / (2.0 * Math.PI)

        Vec3(
            c * (t + x * y / (2.0 * (1.0 - nu) * r2)),
            -c
            * ((1.0 - 2.0 * nu) / (4.0 * (1.0 - nu)) * log r2
               + (x * x - y * y) / (4.0 * (1.0 - nu) * r2)),
            0.0
        )

    let private at (c: float[]) i j k l = c.[27 * i + 9 * j + 3 * k + l]

    /// The 3×3 blocks Q, R, T (row-major) of ℂ (x = 1st, y = 2nd in-plane axis).
    let private blocks (c: float[]) =
        let q = Array.init 9 (fun n -> at c (n / 3) 0 (n % 3) 0)
        let r = Array.init 9 (fun n -> at c (n / 3) 0 (n % 3) 1)
        let t = Array.init 9 (fun n -> at c (n / 3) 1 (n % 3) 1)
        q, r, t

    /// One unperturbed Stroh solve: roots, a, d and the smallest relative separation of the roots.
    let private solveOnce (c: float[]) (b: Vec3) =
        let q, r, t = blocks c
        let M = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build
        let Tm = M.Dense(3, 3, fun i j -> t.[3 * i + j])
        let Rm = M.Dense(3, 3, fun i j -> r.[3 * i + j])
        let Qm = M.Dense(3, 3, fun i j -> q.[3 * i + j])
        let Ti = Tm.Inverse()
        let n1 = -(Ti * Rm.Transpose())
        let n2 = Ti
        let n3 = Rm * Ti * Rm.Transpose() - Qm
        let n4 = -(Rm * Ti)
        let N = M.Dense(6, 6)
        N.SetSubMatrix(0, 0, n1)
        N.SetSubMatrix(0, 3, n2)
        N.SetSubMatrix(3, 0, n3)
        N.SetSubMatrix(3, 3, n4)
        let ev = N.Evd().EigenValues.ToArray()

        let roots =
            ev
            |> Array.filter (fun p -> p.Imaginary > 0.0)
            |> Array.sortBy (fun p -> p.Real, p.Imaginary)

        if roots.Length <> 3 then
            raise (
                ComputationException(
                    sprintf
                        "the Stroh eigenproblem gave %d roots with Im p > 0 instead of 3 (ℂ not strongly elliptic?)"
                        roots.Length
                )
            )

        let scale = roots |> Array.map Complex.Abs |> Array.max

        let mutable sep = Double.PositiveInfinity

        for i in 0..2 do
            for j in i + 1 .. 2 do
                sep <- min sep (Complex.Abs(roots.[i] - roots.[j]) / scale)

        let cx (v: float) = Complex(v, 0.0)

        let avec (p: Complex) =
            let k =
                Array.init 9 (fun n -> cx q.[n] + p * cx (r.[n] + r.[3 * (n % 3) + n / 3]) + p * p * cx t.[n])

            let row i =
                [| k.[3 * i]; k.[3 * i + 1]; k.[3 * i + 2] |]

            let cross (u: Complex[]) (v: Complex[]) =
                [| u.[1] * v.[2] - u.[2] * v.[1]
                   u.[2] * v.[0] - u.[0] * v.[2]
                   u.[0] * v.[1] - u.[1] * v.[0] |]

            let norm (v: Complex[]) =
                v |> Array.sumBy (fun z -> z.Magnitude * z.Magnitude)

            let best =
                [ cross (row 0) (row 1); cross (row 1) (row 2); cross (row 2) (row 0) ]
                |> List.maxBy norm

            let s = sqrt (norm best)
            best |> Array.map (fun z -> z / cx s)

        let a = roots |> Array.map avec

        let l =
            Array.init 3 (fun al ->
                let p = roots.[al]

                Array.init 3 (fun i ->
                    let mutable s = Complex.Zero

                    for k in 0..2 do
                        s <- s + (cx r.[3 * k + i] + p * cx t.[3 * i + k]) * a.[al].[k]

                    s))

        // [Re A, −Im A; Re L, −Im L] [Re d; Im d] = [b/2; 0]
        let S = M.Dense(6, 6)

        for i in 0..2 do
            for al in 0..2 do
                S.[i, al] <- a.[al].[i].Real
                S.[i, al + 3] <- -a.[al].[i].Imaginary
                S.[i + 3, al] <- l.[al].[i].Real
                S.[i + 3, al + 3] <- -l.[al].[i].Imaginary

        let rhs =
            MathNet.Numerics.LinearAlgebra.Vector<float>.Build.DenseOfArray
                [| 0.5 * b.X; 0.5 * b.Y; 0.5 * b.Z; 0.0; 0.0; 0.0 |]

        let sol = S.Solve rhs
        let d = Array.init 3 (fun al -> Complex(sol.[al], sol.[al + 3]))
        roots, a, d, sep

    /// Relative root separation below which the perturbation route is taken.
    let degenerateSeparation = 1e-3

    /// Relative size ε of the cubic perturbation of the degenerate route.
    let perturbation = 2e-3

    /// The Stroh solution for the tensor ℂ (81 entries, simulation axes, line along z) and Burgers vector b (Å).
    let stroh (c: float[]) (b: Vec3) : StrohSolution =
        Validate.length "c" 81 c
        Validate.allFinite "c" c
        let (roots, a, d, sep) = solveOnce c b

        if sep >= degenerateSeparation then
            { Roots = [| roots |]
              A = [| a |]
              D = [| d |]
              Weights = [| 1.0 |] }
        else
            let scale = (at c 0 0 0 0 + at c 1 1 1 1 + at c 2 2 2 2) / 3.0

            let perturbed (e: float) =
                let cp = Array.copy c

                for i in 0..2 do
                    cp.[27 * i + 9 * i + 3 * i + i] <- cp.[27 * i + 9 * i + 3 * i + i] + e * scale

                let (r, a, d, _) = solveOnce cp b
                r, a, d

            // Richardson: (4 ū(ε) − ū(2ε)) / 3 with ū(e) = (u(ℂ + eE) + u(ℂ − eE)) / 2
            let eps = perturbation

            let terms =
                [| perturbed eps
                   perturbed -eps
                   perturbed (2.0 * eps)
                   perturbed (-2.0 * eps) |]

            let w = [| 2.0 / 3.0; 2.0 / 3.0; -1.0 / 6.0; -1.0 / 6.0 |]

            { Roots = terms |> Array.map (fun (r, _, _) -> r)
              A = terms |> Array.map (fun (_, a, _) -> a)
              D = terms |> Array.map (fun (_, _, d) -> d)
              Weights = w }

    /// ln z with arg in [0, 2π).
    let private log2pi (z: Complex) =
        let t = Math.Atan2(z.Imaginary, z.Real)
        Complex(log z.Magnitude, (if t < 0.0 then t + 2.0 * Math.PI else t))

    /// The Stroh displacement u(x) (Å) at (x, y) relative to the core.
    let strohDisplacement (s: StrohSolution) (x: float) (y: float) : Vec3 =
        let mutable ux = 0.0
        let mutable uy = 0.0
        let mutable uz = 0.0

        for term in 0 .. s.Weights.Length - 1 do
            let mutable sx = Complex.Zero
            let mutable sy = Complex.Zero
            let mutable sz = Complex.Zero

            for al in 0..2 do
                let f =
                    s.D.[term].[al]
                    * log2pi (Complex(x, 0.0) + s.Roots.[term].[al] * Complex(y, 0.0))

                let a = s.A.[term].[al]
                sx <- sx + a.[0] * f
                sy <- sy + a.[1] * f
                sz <- sz + a.[2] * f

            let w = s.Weights.[term] / Math.PI
            ux <- ux + w * sx.Imaginary
            uy <- uy + w * sy.Imaginary
            uz <- uz + w * sz.Imaginary

        Vec3(ux, uy, uz)

    /// The C^∞ step η of (A.4): 0 for t <= 0, 1 for t >= 1, e^(−1/t) / (e^(−1/t) + e^(−1/(1−t))) between.
    let eta (t: float) =
        if t <= 0.0 then
            0.0
        elif t >= 1.0 then
            1.0
        else
            let f = exp (-1.0 / t)
            let g = exp (-1.0 / (1.0 - t))
            f / (f + g)

    /// ξ of (A.4) for in-plane b12 = (b1, 0): ξ(y) = y − b12 η(|y − x̂|/r̂) arg(y − x̂) / 2π (x, y relative to x̂).
    let xi (b1: float) (rhat: float) (x: float) (y: float) =
        x - b1 * eta (sqrt (x * x + y * y) / rhat) * angle x y / (2.0 * Math.PI)

    /// ξ⁻¹ of (A.4) at (x, y) relative to x̂: the first coordinate s with ξ(s, y) = x (ξ leaves y alone), by bisection
    /// on [x, x + b1] (where ξ(·, y) − x changes sign since 0 <= ηθ/2π < 1) to 1e-15 relative.
    let xiInverse (b1: float) (rhat: float) (x: float) (y: float) =
        if b1 = 0.0 then
            x
        else
            let mutable lo = min x (x + b1)
            let mutable hi = max x (x + b1)
            let g (s: float) = xi b1 rhat s y - x
            let glo = g lo
            let mutable it = 0

            while hi - lo > 1e-15 * (abs x + abs b1) && it < 200 do
                let mid = 0.5 * (lo + hi)

                if (g mid > 0.0) = (glo > 0.0) then lo <- mid else hi <- mid
                it <- it + 1

            0.5 * (lo + hi)

/// Which far-field predictor u0 to use (the issue's `--predictor`).
[<RequireQualifiedAccess>]
type PredictorKind =
    /// u0 = 0.
    | NoPredictor
    /// The isotropic edge solution with Poisson ratio ν.
    | Isotropic of nu: float
    /// The anisotropic Stroh solution for the tensor ℂ (81 entries, simulation axes).
    | Anisotropic of stiffness: float[]

/// The far-field predictor u0(x) = u_lin(ξ⁻¹(x)) of (A.2), with the core smoothing radius r̂ of (A.4), on the sites of
/// a defect domain; zero for point defects (condition (P)).
[<RequireQualifiedAccess>]
module Predictor =

    /// The default smoothing radius r̂ (Å) of (A.4): |b|.
    let defaultSmoothing (domain: DefectDomain) = Vec3.norm domain.Burgers

    /// u0 at every site of the domain's reference (3 per atom, Å). Zero unless the defect is an edge dislocation and
    /// the kind is not NoPredictor. `rhat` > 0 is r̂ (Å).
    let displacements (kind: PredictorKind) (rhat: float) (domain: DefectDomain) : float[] =
        let n = domain.Reference.Count
        let u = Array.zeroCreate (3 * n)

        match kind, domain.Defect with
        | PredictorKind.NoPredictor, _
        | _, DefectKind.NoDefect
        | _, DefectKind.Vacancy -> u
        | _, DefectKind.Edge ->
            Validate.positive "rhat" rhat
            let b = domain.Burgers

            let ulin: float -> float -> Vec3 =
                match kind with
                | PredictorKind.Isotropic nu ->
                    if not (nu > -1.0 && nu < 0.5) then
                        invalidArg "kind" (sprintf "the Poisson ratio must lie in (-1, 0.5), got %g" nu)

                    fun x y -> Cle.isotropicEdge nu b.X x y
                | PredictorKind.Anisotropic c ->
                    let s = Cle.stroh c b
                    fun x y -> Cle.strohDisplacement s x y
                | PredictorKind.NoPredictor -> fun _ _ -> Vec3.Zero

            let x = domain.Reference.Positions
            let c = domain.Core

            for i in 0 .. n - 1 do
                let dx = x.[3 * i] - c.X
                let dy = x.[3 * i + 1] - c.Y
                let s = Cle.xiInverse b.X rhat dx dy
                Vec3.set u i (ulin s dy)

            u
