namespace Qmmm.Numerics

open System

/// Parameters of the ACE radial basis (STYLE 4: start from `AceRadial.defaults`, update with `{ defaults with ... }`).
///
/// The distance is transformed to x(r) = ((1 + r0) / (1 + r))^q and mapped affinely to y = (x − x(rcut)) / (x(rin) −
/// x(rcut)), so y = 1 at rin and y = 0 at rcut. The radial functions are R_n(r) = p_{n−1}(y) · y^e for 0 < y and 0 for
/// r >= rcut, with p_k the polynomials orthonormal for the weight y^{2e} on [0, 1] (so ∫₀¹ R_n R_m dy = δ_nm). Inside
/// rin (y > 1) the same polynomials continue smoothly: rin fixes only the interval of orthogonality, it is no cutoff.
type AceRadialSpec =
    {
        /// Transform scale r0 (Å), about the nearest-neighbour distance; default 2.5 Å (ACE1's 2021 default).
        R0: float
        /// Inner radius rin (Å, 0 <= rin < rcut) of the orthogonality interval; default 1.25 Å = r0 / 2.
        RIn: float
        /// Cutoff rcut (Å): every R_n vanishes for r >= rcut; default 5.0 Å. See `AceRadial.cutoffFromReference`.
        RCut: float
        /// Transform exponent q >= 1 of x(r) = ((1 + r0)/(1 + r))^q; default 2.
        TransformPower: int
        /// Envelope exponent e >= 1: R_n ~ y^e at the cutoff, so R_n has e − 1 continuous derivatives there; default 2
        /// (continuous forces).
        EnvelopePower: int
    }

/// The radial functions R_1 .. R_Count of one `AceRadialSpec`: the three-term recurrence of the orthonormal
/// polynomials p_k (p_{k+1} = ((y − α_k) p_k − √β_k p_{k−1}) / √β_{k+1}) and the transform constants.
type AceRadialBasis =
    {
        /// The parameters.
        Spec: AceRadialSpec
        /// Number of radial functions (n = 1 .. Count).
        Count: int
        /// Recurrence coefficients α_k, k = 0 .. Count − 1.
        Alpha: float[]
        /// Recurrence coefficients √β_k, k = 0 .. Count (√β_0 = 1 / p_0, the weight's total mass root).
        SqrtBeta: float[]
        /// x(rcut).
        XCut: float
        /// 1 / (x(rin) − x(rcut)).
        Scale: float
    }

/// The ACE radial basis R_n(r) (paper Section 4.1, Appendix E; ACE1.jl's transformed polynomials): construction,
/// generic evaluation (float or jets), a fast float path with derivatives, and the cutoff rule.
[<RequireQualifiedAccess>]
module AceRadial =

    /// Default parameters: r0 = 2.5 Å, rin = 1.25 Å, rcut = 5.0 Å, q = 2, e = 2.
    let defaults =
        { R0 = 2.5
          RIn = 1.25
          RCut = 5.0
          TransformPower = 2
          EnvelopePower = 2 }

    /// Gauss–Legendre nodes and weights on [0, 1] with `m` points (Newton on P_m from the asymptotic guesses; exact for
    /// polynomials of degree <= 2m − 1).
    let gaussLegendre (m: int) : struct (float[] * float[]) =
        Validate.intInRange "m" 1 10000 m
        let nodes = Array.zeroCreate m
        let weights = Array.zeroCreate m

        for i in 0 .. m - 1 do
            let mutable x = Math.Cos(Math.PI * (float i + 0.75) / (float m + 0.5))
            let mutable dp = 1.0
            let mutable it = 0
            let mutable go = true

            while go do
                // P_m(x) and P_m'(x) by the three-term recurrence
                let mutable p0 = 1.0
                let mutable p1 = x

                for k in 2..m do
                    let p2 = ((2.0 * float k - 1.0) * x * p1 - (float k - 1.0) * p0) / float k
                    p0 <- p1
                    p1 <- p2

                let pm = if m = 1 then x else p1
                let pm1 = if m = 1 then 1.0 else p0
                dp <- float m * (x * pm - pm1) / (x * x - 1.0)
                let dx = pm / dp
                x <- x - dx
                it <- it + 1
                go <- abs dx > 1e-16 && it < 100

            nodes.[i] <- 0.5 * (1.0 - x)
            weights.[i] <- 1.0 / ((1.0 - x * x) * dp * dp)

        struct (nodes, weights)

    /// x(r) = ((1 + r0)/(1 + r))^q.
    let transform (spec: AceRadialSpec) (r: float) =
        pown ((1.0 + spec.R0) / (1.0 + r)) spec.TransformPower

    /// The radial basis of `count` functions for `spec`: the recurrence of the polynomials orthonormal for y^{2e} on
    /// [0, 1] by the discretised Stieltjes procedure on count + e + 2 Gauss–Legendre nodes (exact). Raises
    /// ArgumentException on invalid parameters (0 <= rin < rcut, r0 > 0, q, e >= 1, count >= 1).
    let create (spec: AceRadialSpec) (count: int) : AceRadialBasis =
        Validate.positive "spec.R0" spec.R0
        Validate.nonNegative "spec.RIn" spec.RIn
        Validate.finite "spec.RCut" spec.RCut

        if not (spec.RCut > spec.RIn) then
            invalidArg "spec" (sprintf "rcut (%g Å) must exceed rin (%g Å)" spec.RCut spec.RIn)

        Validate.intInRange "spec.TransformPower" 1 16 spec.TransformPower
        Validate.intInRange "spec.EnvelopePower" 1 16 spec.EnvelopePower
        Validate.intInRange "count" 1 1000 count
        let struct (y, w0) = gaussLegendre (count + spec.EnvelopePower + 2)
        let w = Array.init y.Length (fun i -> w0.[i] * pown y.[i] (2 * spec.EnvelopePower))
        let m = y.Length
        let alpha = Array.zeroCreate count
        let sqrtBeta = Array.zeroCreate (count + 1)
        // Stieltjes: orthonormal p_k on the nodes
        let mutable pPrev = Array.zeroCreate m
        let mass = Array.sum w
        sqrtBeta.[0] <- sqrt mass
        let mutable p = Array.create m (1.0 / sqrt mass)

        for k in 0 .. count - 1 do
            let mutable a = 0.0

            for i in 0 .. m - 1 do
                a <- a + w.[i] * y.[i] * p.[i] * p.[i]

            alpha.[k] <- a

            let q =
                Array.init m (fun i -> (y.[i] - a) * p.[i] - (if k = 0 then 0.0 else sqrtBeta.[k]) * pPrev.[i])

            let mutable nq = 0.0

            for i in 0 .. m - 1 do
                nq <- nq + w.[i] * q.[i] * q.[i]

            sqrtBeta.[k + 1] <- sqrt nq
            pPrev <- p
            p <- Array.map (fun v -> v / sqrt nq) q

        let xc = transform spec spec.RCut
        let xi = transform spec spec.RIn

        { Spec = spec
          Count = count
          Alpha = alpha
          SqrtBeta = sqrtBeta
          XCut = xc
          Scale = 1.0 / (xi - xc) }

    /// R_1(r) .. R_Count(r) written to out[0 .. Count − 1] at a scalar distance r (Å; float, Dual, Jet or Taylor);
    /// zero for r >= rcut.
    let inline evaluate (basis: AceRadialBasis) (r: ^T) (out: ^T[]) =
        if value r >= basis.Spec.RCut then
            for k in 0 .. basis.Count - 1 do
                out.[k] <- ofFloat 0.0
        else
            let x =
                powi ((1.0 + basis.Spec.R0) .* (1.0 ./ (1.0 .+ r))) basis.Spec.TransformPower

            let y = (x -. basis.XCut) *. basis.Scale
            let env = powi y basis.Spec.EnvelopePower
            let mutable pPrev: ^T = ofFloat 0.0
            let mutable p: ^T = ofFloat (1.0 / basis.SqrtBeta.[0])

            for k in 0 .. basis.Count - 1 do
                out.[k] <- p * env

                if k + 1 < basis.Count then
                    let next =
                        ((y -. basis.Alpha.[k]) * p - basis.SqrtBeta.[k] .* pPrev)
                        /. basis.SqrtBeta.[k + 1]

                    pPrev <- p
                    p <- next

    /// The fast float path: R_n(r) into values[offset + k] and dR_n/dr (Å⁻¹) into derivs[offset + k], k = 0 .. Count − 1
    /// (the chain rule written out; tested against `evaluate` on `Dual`). No allocation.
    let evaluateWithDerivative (basis: AceRadialBasis) (r: float) (values: float[]) (derivs: float[]) (offset: int) =
        if r >= basis.Spec.RCut then
            for k in 0 .. basis.Count - 1 do
                values.[offset + k] <- 0.0
                derivs.[offset + k] <- 0.0
        else
            let q = basis.Spec.TransformPower
            let e = basis.Spec.EnvelopePower
            let s = (1.0 + basis.Spec.R0) / (1.0 + r)
            let x = pown s q
            let dx = -float q * x / (1.0 + r)
            let y = (x - basis.XCut) * basis.Scale
            let dy = dx * basis.Scale
            let env = pown y e
            let denv = float e * pown y (e - 1) * dy
            let mutable pPrev = 0.0
            let mutable dpPrev = 0.0
            let mutable p = 1.0 / basis.SqrtBeta.[0]
            let mutable dp = 0.0

            for k in 0 .. basis.Count - 1 do
                values.[offset + k] <- p * env
                derivs.[offset + k] <- dp * env + p * denv

                if k + 1 < basis.Count then
                    let inv = 1.0 / basis.SqrtBeta.[k + 1]
                    let next = ((y - basis.Alpha.[k]) * p - basis.SqrtBeta.[k] * pPrev) * inv

                    let dnext =
                        (dy * p + (y - basis.Alpha.[k]) * dp - basis.SqrtBeta.[k] * dpPrev) * inv

                    pPrev <- p
                    dpPrev <- dp
                    p <- next
                    dp <- dnext

    /// The cutoff rule for the MM model from the reference (QM) model: the MM model must see every neighbour whose
    /// force constants with the site matter, i.e. every lattice shell inside the reference cutoff. Given the reference
    /// cutoff rRef (Å) and the lattice's shell radii (Å, any order), returns max(rRef, (r_last + r_next) / 2) with
    /// r_last the largest shell radius below rRef and r_next the next shell: never below rRef, and the last
    /// interacting shell is then at least halfway inside the envelope. Raises when no shell lies below rRef.
    let cutoffFromReference (referenceCutoff: float) (shellRadii: float[]) =
        Validate.positive "referenceCutoff" referenceCutoff
        let inside = shellRadii |> Array.filter (fun r -> r > 0.0 && r < referenceCutoff)

        if inside.Length = 0 then
            invalidArg "shellRadii" (sprintf "no lattice shell lies inside the reference cutoff %g Å" referenceCutoff)

        let last = Array.max inside
        let beyond = shellRadii |> Array.filter (fun r -> r > last + 1e-9)

        if beyond.Length = 0 then
            referenceCutoff
        else
            max referenceCutoff (0.5 * (last + Array.min beyond))
