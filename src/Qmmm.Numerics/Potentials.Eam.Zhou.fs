namespace Qmmm.Numerics

/// Smooth cutoff of the analytic Zhou model: pair and density functions are multiplied by a C³ taper S(r) that is 1
/// for r <= Inner, 0 for r >= Outer, and S(t) = 1 - t⁴(35 - 84t + 70t² - 20t³), t = (r - Inner)/(Outer - Inner),
/// in between (the septic smoothstep: S', S'', S''' vanish at both ends).
type ZhouCutoff =
    {
        /// Radius where the taper starts (Å); below it the model equals the published formulas exactly.
        Inner: float
        /// Cutoff radius (Å); the model's functions vanish beyond it.
        Outer: float
    }

/// The Zhou–Johnson–Wadley (2004) analytic EAM for tungsten (Phys. Rev. B 69, 144113), parameters from
/// /work/shared/reference/zhou2004-W-eam.md, with x = r/r_e:
///   φ(r) = A e^(-α(x-1)) / (1 + (x-κ)^20) - B e^(-β(x-1)) / (1 + (x-λ)^20),
///   f(r) = f_e e^(-β(x-1)) / (1 + (x-λ)^20),
///   F(ρ) = Σ_i Fn_i (ρ/ρ_n - 1)^i (ρ < ρ_n), Σ_i F_i (ρ/ρ_e - 1)^i (ρ_n <= ρ < ρ_o), F_e [1 - ln((ρ/ρ_s)^η)] (ρ/ρ_s)^η (ρ_o <= ρ),
/// ρ_n = 0.85 ρ_e, ρ_o = 1.15 ρ_e. The formulas have no cutoff of their own; `model` adds the taper of `defaultCutoff`.
[<RequireQualifiedAccess>]
module Zhou =

    /// r_e (Å).
    let re = 2.740840

    /// f_e.
    let fe = 3.487340

    /// ρ_e.
    let rhoE = 37.234847

    /// ρ_s.
    let rhoS = 37.234847

    /// α.
    let alpha = 8.900114

    /// β.
    let beta = 4.746728

    /// A (eV).
    let A = 0.882435

    /// B (eV).
    let B = 1.394592

    /// κ.
    let kappa = 0.139209

    /// λ.
    let lambda = 0.278417

    /// Fn_0 .. Fn_3 (eV), the branch ρ < ρ_n.
    let Fn = [| -4.946281; -0.148818; 0.365057; -4.432406 |]

    /// F_0 .. F_3 (eV), the branch ρ_n <= ρ < ρ_o.
    let Fm = [| -4.96; 0.00; 0.661935; 0.348147 |]

    /// η.
    let eta = 0.582714

    /// F_e (eV).
    let Fe = -4.961306

    /// ρ_n = 0.85 ρ_e.
    let rhoN = 0.85 * rhoE

    /// ρ_o = 1.15 ρ_e.
    let rhoO = 1.15 * rhoE

    /// Pair function φ(r) (eV) of the published formula, no cutoff, at a scalar r (Å).
    let inline pair (r: ^T) : ^T =
        let x = r *. (1.0 / re)

        A .* exp ((x -. 1.0) *. (-alpha)) / (1.0 .+ powi (x -. kappa) 20)
        - B .* exp ((x -. 1.0) *. (-beta)) / (1.0 .+ powi (x -. lambda) 20)

    /// Density contribution f(r) of one neighbour (published formula, no cutoff) at a scalar r (Å).
    let inline density (r: ^T) : ^T =
        let x = r *. (1.0 / re)
        fe .* exp ((x -. 1.0) *. (-beta)) / (1.0 .+ powi (x -. lambda) 20)

    /// Embedding energy F(ρ) (eV), the three branches of the published formula, at a scalar host density ρ.
    let inline embedding (rho: ^T) : ^T =
        let v = value rho

        if v < rhoN then
            let t = rho *. (1.0 / rhoN) -. 1.0
            Fn.[0] .+ t * (Fn.[1] .+ t * (Fn.[2] .+ t *. Fn.[3]))
        elif v < rhoO then
            let t = rho *. (1.0 / rhoE) -. 1.0
            Fm.[0] .+ t * (Fm.[1] .+ t * (Fm.[2] .+ t *. Fm.[3]))
        else
            let s = rho *. (1.0 / rhoS)
            let se = powc s eta
            Fe .* ((1.0 .- eta .* log s) * se)

    /// The taper S(r) of a cutoff (see `ZhouCutoff`) at a scalar r (Å): 1 below Inner, 0 above Outer, C³ in between.
    let inline taper (c: ZhouCutoff) (r: ^T) : ^T =
        let v = value r

        if v <= c.Inner then
            ofFloat 1.0
        elif v >= c.Outer then
            ofFloat 0.0
        else
            let t = (r -. c.Inner) *. (1.0 / (c.Outer - c.Inner))
            let t2 = t * t
            1.0 .- t2 * t2 * (35.0 .+ t * (-84.0 .+ t * (70.0 .+ t *. -20.0)))

    /// Default cutoff: taper from 7.5 Å to 7.8925 Å (the cutoff of `W_zhou.eam.alloy`). Below 7.5 Å the functions are
    /// the published ones; f(7.5 Å) ≈ 1.4e-11, so the taper changes a bcc site energy by well under 1e-8 eV (measured in
    /// the tests against the untapered formulas summed to 12 Å).
    let defaultCutoff = { Inner = 7.5; Outer = 7.8925 }

    /// The analytic model with the given taper: name "eam-w-zhou", element "W", cutoff `cutoff.Outer`; φ and f are
    /// multiplied by `taper cutoff`, F is unchanged. Raises ArgumentException unless 0 < Inner < Outer.
    let modelWith (cutoff: ZhouCutoff) : EamModel =
        Validate.positive "cutoff.Inner" cutoff.Inner

        if not (cutoff.Outer > cutoff.Inner) then
            invalidArg
                "cutoff"
                (sprintf "the taper needs Inner < Outer, got Inner = %g Å, Outer = %g Å" cutoff.Inner cutoff.Outer)

        let c = cutoff

        { Name = "eam-w-zhou"
          Elements = [| "W" |]
          Cutoff = c.Outer
          Pair =
            [| { F = (fun r -> pair r * taper c r)
                 D = (fun r -> pair r * taper c r)
                 J = (fun r -> pair r * taper c r) } |]
          Density =
            [| { F = (fun r -> density r * taper c r)
                 D = (fun r -> density r * taper c r)
                 J = (fun r -> density r * taper c r) } |]
          Embedding =
            [| { F = (fun r -> embedding r)
                 D = (fun r -> embedding r)
                 J = (fun r -> embedding r) } |] }

    /// The analytic Zhou model with the default cutoff (`defaultCutoff`: taper 7.5 -> 7.8925 Å).
    let model: EamModel = modelWith defaultCutoff
