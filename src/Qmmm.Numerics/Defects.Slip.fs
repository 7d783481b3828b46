namespace Qmmm.Numerics

open System
open System.Collections.Generic

/// The slip operators of (A.5)–(A.8) on a dislocation domain, in the form the stencils need: for a bond (ℓ, ℓ + ρ)
/// of a site ℓ in the half-space Ω_Γ = {x₁ >= x̂₁ + r̂ + b₁} whose ends lie on opposite sides of the glide plane
/// y = ŷ, S*D_ρS replaces the far end ℓ + ρ by its slipped partner ℓ + ρ − b₁₂ (ℓ above, ℓ + ρ below) or
/// ℓ + ρ + b₁₂ (ℓ below, ℓ + ρ above); every other bond keeps its end. With S₀ (which also subtracts b below the
/// plane) this gives the elastic strains e_ρ(ℓ) of (A.6); with S, the corrector differences D_ρu(ℓ) of (A.7), so
/// that Du, the norm (2.2) and interpolation are well defined across the branch cut.
[<RequireQualifiedAccess>]
module Slip =

    /// True when x (relative to nothing: absolute Å) lies in Ω_Γ of (A.6) for the domain and smoothing radius r̂.
    let inHalfSpace (domain: DefectDomain) (rhat: float) (p: Vec3) =
        p.X >= domain.Core.X + rhat + domain.Burgers.X

    /// For every entry of `bonds` (a list on the domain's reference, e.g. `Stencil.bonds`): the index of the end that
    /// S*D_ρS uses (the neighbour itself, or its slipped partner), and the sign s ∈ {−1, 0, +1} of the shift applied
    /// (partner = ℓ + ρ + s b₁₂). −1 as index when the partner lies outside the domain.
    let partners (domain: DefectDomain) (rhat: float) (bonds: NeighbourList) : struct (int[] * int[]) =
        let x = domain.Reference.Positions
        let n = domain.Reference.Count
        let scale = 1e6

        let key (p: Vec3) =
            struct (Math.Round(p.X * scale), Math.Round(p.Y * scale), Math.Round(p.Z * scale))

        let period =
            if domain.Reference.Cell.Pbc.[2] then
                domain.Reference.Cell.Vectors.[8]
            else
                0.0

        let wrap (p: Vec3) =
            if period > 0.0 then
                let z = p.Z - period * Math.Floor(p.Z / period + 1e-9)
                Vec3(p.X, p.Y, (if abs (z - period) < 1e-9 then 0.0 else z))
            else
                p

        let index = Dictionary<struct (float * float * float), int>(n)

        for i in 0 .. n - 1 do
            index.[key (wrap (Vec3.get x i))] <- i

        let ends = Array.zeroCreate bonds.Pairs
        let signs = Array.zeroCreate bonds.Pairs
        let b = Vec3(domain.Burgers.X, domain.Burgers.Y, 0.0)
        let yhat = domain.Core.Y

        for i in 0 .. n - 1 do
            let pi = Vec3.get x i

            for e in bonds.Start.[i] .. bonds.Start.[i + 1] - 1 do
                let j = bonds.Index.[e]
                let pj = pi + Neighbours.vector bonds x i e
                let above, otherAbove = pi.Y > yhat, pj.Y > yhat

                if
                    domain.Defect = DefectKind.Edge
                    && inHalfSpace domain rhat pi
                    && above <> otherAbove
                then
                    let s = if above then -1 else 1
                    let target = wrap (pj + float s * b)

                    ends.[e] <-
                        match index.TryGetValue(key target) with
                        | true, m -> m
                        | _ -> -1

                    signs.[e] <- s
                else
                    ends.[e] <- j
                    signs.[e] <- 0

        struct (ends, signs)

    /// The elastic strains e_ρ(ℓ) of (A.6) (3 per entry of `bonds`, Å): S*D_ρS₀u₀(ℓ) in Ω_Γ, D_ρu₀(ℓ) elsewhere,
    /// for the predictor u0 (3 per atom). S₀ subtracts b at a partner below the plane reached from above and adds it
    /// at a partner above reached from below. NaN for entries whose partner is outside the domain.
    let strains (domain: DefectDomain) (rhat: float) (bonds: NeighbourList) (u0: float[]) : float[] =
        let struct (ends, signs) = partners domain rhat bonds
        let b = domain.Burgers
        let out = Array.zeroCreate (3 * bonds.Pairs)

        for i in 0 .. domain.Reference.Count - 1 do
            for e in bonds.Start.[i] .. bonds.Start.[i + 1] - 1 do
                let m = ends.[e]

                if m < 0 then
                    Vec3.set out e (Vec3(nan, nan, nan))
                else
                    let d = Vec3.get u0 m - Vec3.get u0 i
                    // partner below (s = −1): S₀ w = w(x − b) − b; partner above reached from below (s = +1): + b
                    Vec3.set out e (d + float signs.[e] * b)

        out

    /// The corrector differences D_ρu(ℓ) of (A.7) (3 per entry, Å): u(partner) − u(ℓ), NaN outside the domain.
    let differences (domain: DefectDomain) (rhat: float) (bonds: NeighbourList) (u: float[]) : float[] =
        let struct (ends, _) = partners domain rhat bonds
        let out = Array.zeroCreate (3 * bonds.Pairs)

        for i in 0 .. domain.Reference.Count - 1 do
            for e in bonds.Start.[i] .. bonds.Start.[i + 1] - 1 do
                let m = ends.[e]

                Vec3.set
                    out
                    e
                    (if m < 0 then
                         Vec3(nan, nan, nan)
                     else
                         Vec3.get u m - Vec3.get u i)

        out
