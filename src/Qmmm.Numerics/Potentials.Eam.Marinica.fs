namespace Qmmm.Numerics

/// The Marinica et al. (2013) "EAM4" potential for tungsten (J. Phys.: Condens. Matter 25, 395502), analytic form:
///   φ(r) = Σ_k a_k (d_k - r)+³ (15 knots),  ρ(r) = Σ_k A_k (R_k - r)+³ (4 knots),  F(ρ) = -a √ρ - b ρ²,
/// with x+ = max(x, 0); site energy E_i = F(Σ_j ρ(r_ij)) + ½ Σ_j φ(r_ij); cutoff 5.4604375 Å (the last pair knot).
/// Coefficients from /work/shared/reference/nrltb_si_parameters.md section 9 (a Fortran transcription of the paper).
/// The tabulated `w_eam4.fs` additionally joins a ZBL core below about 2 Å; the analytic form here does not (irrelevant
/// near equilibrium). This is the default W model of the paper's code family.
[<RequireQualifiedAccess>]
module Marinica =

    /// Pair knots d_k (Å), increasing.
    let pairKnots =
        [| 2.5648975
           2.629795
           2.6946925
           2.8663175
           2.973045
           3.0797725
           3.5164725
           3.846445
           4.1764175
           4.700845
           4.8953
           5.089755
           5.3429525
           5.401695
           5.4604375 |]

    /// Pair coefficients a_k (eV/Å³).
    let pairCoefficients =
        [| 95.4071477542914
           -181.161004448916
           93.0215233132627
           -10.8428907515182
           11.2027468539573
           -3.12459176640227
           1.23028140617302
           1.54767467307454
           -1.28861387780439
           -0.843327493551467
           2.14009882965042
           -1.02898314532388
           1.38163259601912
           -3.60872433001551
           2.17655968740690 |]

    /// Density knots R_k (Å), increasing.
    let densityKnots = [| 2.5; 3.1; 3.5; 4.9 |]

    /// Density coefficients A_k (Å⁻³, density in the model's arbitrary units).
    let densityCoefficients =
        [| -0.0420429107805055
           0.518217702261442
           0.0562720834534370
           0.0344164178842340 |]

    /// Embedding coefficient a of -a √ρ (eV).
    let embeddingA = 5.553986589859130

    /// Embedding coefficient b of -b ρ² (eV).
    let embeddingB = 0.045691157657292

    /// Cutoff radius (Å): the last pair knot; every function vanishes with two continuous derivatives there.
    let cutoff = 5.4604375

    /// Σ_k c_k (d_k - r)+³ at a scalar r (float, Dual or Jet); the branch follows the value of r, so the cubic
    /// truncation is C² at each knot and jets see the exact polynomial on each side.
    let inline knotSum (knots: float[]) (coefficients: float[]) (r: ^T) : ^T =
        let rv = value r
        let mutable s: ^T = ofFloat 0.0

        for k in 0 .. knots.Length - 1 do
            if rv < knots.[k] then
                let t = knots.[k] .- r
                s <- s + coefficients.[k] .* (t * t * t)

        s

    /// Pair function φ(r) (eV) at a scalar r (Å).
    let inline pair (r: ^T) : ^T = knotSum pairKnots pairCoefficients r

    /// Density contribution ρ(r) of one neighbour at a scalar r (Å).
    let inline density (r: ^T) : ^T =
        knotSum densityKnots densityCoefficients r

    /// Embedding energy F(ρ) = -a √ρ - b ρ² (eV) at a scalar host density ρ.
    /// At ρ = 0 (an isolated atom, or one whose neighbours all lie beyond the 4.9 Å density range) F(0) = 0 and the
    /// √ρ term is dropped for ρ <= 0, so F' is finite there (F'(0) = 0 on every scalar type, no NaN from the infinite
    /// slope of √ρ at 0+). This is the right limit for forces: ρ̄ -> 0 only when every ρ(r_j) -> 0, and then
    /// ρ'(r_j) = O((R_4 - r)²) makes F'(ρ̄) ρ'(r_j) = O((R_4 - r)^(1/2)) -> 0. For ρ < 0 (not reached: ρ(r) > 0 for r < 4.9 Å)
    /// F = -b ρ².
    let inline embedding (rho: ^T) : ^T =
        let b2 = embeddingB .* (rho * rho)

        if value rho > 0.0 then
            -(embeddingA .* sqrt rho) - b2
        else
            -b2

    /// The model as a `Radial`-table EAM model: name "eam-w-marinica", element "W", cutoff 5.4604375 Å.
    let model: EamModel =
        { Name = "eam-w-marinica"
          Elements = [| "W" |]
          Cutoff = cutoff
          Pair =
            [| { F = (fun r -> pair r)
                 D = (fun r -> pair r)
                 J = (fun r -> pair r) } |]
          Density =
            [| { F = (fun r -> density r)
                 D = (fun r -> density r)
                 J = (fun r -> density r) } |]
          Embedding =
            [| { F = (fun r -> embedding r)
                 D = (fun r -> embedding r)
                 J = (fun r -> embedding r) } |] }
