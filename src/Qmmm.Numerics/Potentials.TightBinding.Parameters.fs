namespace Qmmm.Numerics

open System

/// The cutoff function of the NRL tight-binding model (the three variants of the paper's code family, SKTB).
[<RequireQualifiedAccess>]
type NrlCutoff =
    /// fc(r) = f0(r) for r ≤ Rc, 0 beyond: the textbook NRL form of Appendix D (value jump f0(Rc) ≈ 0.0067 at Rc). The
    /// paper's code family (QMMM2.jl) uses it; the default here.
    | Original
    /// fc(r) = f0(r) − f0(Rc) for r ≤ Rc: continuous at Rc.
    | EnergyShift
    /// fc(r) = f0(r) − f0(Rc) − f0'(Rc)(r − Rc) for r ≤ Rc: C¹ at Rc, but lowers fc(r_nn) to ≈ 0.886 and closes the
    /// gap of bulk Si at a = 5.43 Å (not the paper's model).
    | ForceShift

/// Parameters of an NRL tight-binding model with an sp basis (Appendix D; Bernstein et al., PRB 62, 4477 (2000)), in
/// the units of the NRL tables: energies in Rydberg, lengths in Bohr. Orbitals s, px, py, pz; bond integrals in the
/// order ss-σ, sp-σ, pp-σ, pp-π. The exponent parameters enter squared (exp(−h² r)), as in the NRL codes, SKTB and
/// QUIP; the paper's (D.3)/(D.4) print exp(−h r).
type NrlParameters =
    {
        /// Element symbol.
        Element: string
        /// Cutoff radius Rc (Bohr).
        Rc: float
        /// Cutoff width lc (Bohr).
        Lc: float
        /// Dimensionless offset Mc of the cutoff function (the "L_c" of Appendix D; 5 in the NRL codes).
        Mc: float
        /// Density exponent λ (Bohr^−1/2; enters as λ²).
        Lambda: float
        /// On-site coefficients (a, b, c, d) of the s orbital (Ry), (D.2).
        OnSiteS: float[]
        /// On-site coefficients (a, b, c, d) of the p orbitals (Ry), (D.2).
        OnSiteP: float[]
        /// Hamiltonian bond coefficients (e, f, g, h) of each bond (4 rows of 4, row-major), (D.3).
        Bond: float[]
        /// Overlap bond coefficients (δ, p, q, r, s) of each bond (4 rows of 5, row-major; NRL naming), (D.4).
        Overlap: float[]
        /// Valence electrons per atom (4 for Si).
        Valence: int
    }

/// The NRL sp parameter sets and the radial functions of the model, evaluated in eV and Å at the API (distances are
/// converted to Bohr by dividing by `Bohr`, Hamiltonian values multiplied by `Rydberg`; overlaps are dimensionless).
[<RequireQualifiedAccess>]
module NrlTb =

    /// 1 Bohr in Å (the conversion of the paper's code family).
    [<Literal>]
    let Bohr = 0.52917721092

    /// 1 Rydberg in eV (the conversion of the paper's code family).
    [<Literal>]
    let Rydberg = 13.60569301

    /// Number of orbitals per atom of the sp basis (s, px, py, pz).
    [<Literal>]
    let Orbitals = 4

    /// NRL-TB Si, sp basis (SKTB `Si_sp`; QUIP `tightbind.parms.NRL_TB.Si.xml`): Rc = 12.5 Bohr (6.6147 Å), lc = 0.5
    /// Bohr, Mc = 5, λ = 1.10356625153 (reference file `nrltb_si_parameters.md`, section 3).
    let siliconSp: NrlParameters =
        { Element = "Si"
          Rc = 12.5
          Lc = 0.5
          Mc = 5.0
          Lambda = 1.10356625153
          OnSiteS = [| -0.053233461902; -0.907642743185; -8.83084913674; 56.5661321469 |]
          OnSiteP = [| 0.357859715265; 0.303647693101; 7.09222903560; -77.4785508399 |]
          Bond =
            [| 219.560813651
               -16.2132459618
               -15.5048968097
               1.26439940008
               10.127687621
               -4.4036811240
               0.2266767834
               0.92267194054
               -22.959028107
               1.7207707741
               1.4191307713
               1.03136916513
               10.265449263
               4.6718241428
               -2.2161562721
               1.11134828469 |]
          Overlap =
            [| 1.0
               5.157587186
               0.660009308
               -0.0815441307
               1.10814448800
               0.0
               8.873646665
               -16.240770475
               5.1822969049
               1.24065238343
               1.0
               11.250489009
               -1.1701322929
               -1.0591485021
               1.13762861032
               1.0
               -692.184231145
               396.153248956
               -13.8172106270
               1.57248559510 |]
          Valence = 4 }

    /// The cutoff radius Rc of `p` in Å (12.5 Bohr = 6.6147 Å for Si): pairs at r ≥ Rc do not interact.
    let cutoffRadius (p: NrlParameters) = p.Rc * Bohr

    /// The raw NRL function f0(r) = 1 / (1 + exp((r − Rc)/lc + Mc)) and its derivative, r in Bohr.
    let private f0 (p: NrlParameters) (r: float) : struct (float * float) =
        let e = Math.Exp((r - p.Rc) / p.Lc + p.Mc)
        let v = 1.0 / (1.0 + e)
        struct (v, -v * v * e / p.Lc)

    /// The cutoff function fc(r) of Appendix D and dfc/dr for the variant `cut`, r in Å (dfc/dr in 1/Å); 0 for
    /// r ≥ Rc.
    let cutoff (p: NrlParameters) (cut: NrlCutoff) (r: float) : struct (float * float) =
        let rb = r / Bohr

        if rb >= p.Rc then
            struct (0.0, 0.0)
        else
            let struct (v, d) = f0 p rb

            match cut with
            | NrlCutoff.Original -> struct (v, d / Bohr)
            | NrlCutoff.EnergyShift ->
                let struct (vc, _) = f0 p p.Rc
                struct (v - vc, d / Bohr)
            | NrlCutoff.ForceShift ->
                let struct (vc, dc) = f0 p p.Rc
                struct (v - vc - dc * (rb - p.Rc), (d - dc) / Bohr)

    /// One neighbour's contribution exp(−λ² r) fc(r) to the pseudo-density ρ_ℓ of (D.1) and its derivative with
    /// respect to r (1/Å), r in Å.
    let densityTerm (p: NrlParameters) (cut: NrlCutoff) (r: float) : struct (float * float) =
        let struct (fc, dfc) = cutoff p cut r

        if fc = 0.0 && dfc = 0.0 then
            struct (0.0, 0.0)
        else
            let l2 = p.Lambda * p.Lambda / Bohr
            let e = Math.Exp(-l2 * r)
            struct (e * fc, e * (dfc - l2 * fc))

    /// The on-site energy a + b ρ^(2/3) + c ρ^(4/3) + d ρ² of (D.2) (eV) and its derivative with respect to ρ (eV),
    /// for the s orbital (`orbital` = 0) or a p orbital (1, 2, 3); ρ ≥ 0 is the pseudo-density. The derivative of
    /// ρ^(2/3) is infinite at ρ = 0; it is returned as 0 there (an isolated atom has no neighbour to move).
    let onSite (p: NrlParameters) (orbital: int) (rho: float) : struct (float * float) =
        let c = if orbital = 0 then p.OnSiteS else p.OnSiteP

        if rho <= 0.0 then
            struct (Rydberg * c.[0], 0.0)
        else
            let r13 = Math.Cbrt rho
            let r23 = r13 * r13
            let r43 = r23 * r23
            let v = c.[0] + c.[1] * r23 + c.[2] * r43 + c.[3] * rho * rho

            let d =
                c.[1] * (2.0 / 3.0) * r23 / rho + c.[2] * (4.0 / 3.0) * r13 + 2.0 * c.[3] * rho

            struct (Rydberg * v, Rydberg * d)

    /// The Hamiltonian bond integral V_b(r) = (e + f r + g r²) exp(−h² r) fc(r) of (D.3) (eV) and dV_b/dr (eV/Å), for
    /// the bond b (0 ss-σ, 1 sp-σ, 2 pp-σ, 3 pp-π), r in Å.
    let bond (p: NrlParameters) (cut: NrlCutoff) (b: int) (r: float) : struct (float * float) =
        let struct (fc, dfc) = cutoff p cut r

        if fc = 0.0 && dfc = 0.0 then
            struct (0.0, 0.0)
        else
            let rb = r / Bohr

            let e, f, g, h =
                p.Bond.[4 * b], p.Bond.[4 * b + 1], p.Bond.[4 * b + 2], p.Bond.[4 * b + 3]

            let poly = e + rb * (f + g * rb)
            let dpoly = f + 2.0 * g * rb
            let x = Math.Exp(-h * h * rb)
            let v = poly * x
            // d/dr in Bohr of poly·x, then to Å
            let dv = (dpoly - h * h * poly) * x / Bohr
            struct (Rydberg * v * fc, Rydberg * (dv * fc + v * dfc))

    /// The overlap integral S_b(r) = (δ + p r + q r² + r r³) exp(−s² r) fc(r) of (D.4) (dimensionless) and dS_b/dr
    /// (1/Å), for the bond b (0 ss-σ, 1 sp-σ, 2 pp-σ, 3 pp-π), r in Å.
    let overlap (p: NrlParameters) (cut: NrlCutoff) (b: int) (r: float) : struct (float * float) =
        let struct (fc, dfc) = cutoff p cut r

        if fc = 0.0 && dfc = 0.0 then
            struct (0.0, 0.0)
        else
            let rb = r / Bohr
            let o = 5 * b

            let d0, c1, c2, c3, s =
                p.Overlap.[o], p.Overlap.[o + 1], p.Overlap.[o + 2], p.Overlap.[o + 3], p.Overlap.[o + 4]

            let poly = d0 + rb * (c1 + rb * (c2 + c3 * rb))
            let dpoly = c1 + rb * (2.0 * c2 + 3.0 * c3 * rb)
            let x = Math.Exp(-s * s * rb)
            let v = poly * x
            let dv = (dpoly - s * s * poly) * x / Bohr
            struct (v * fc, dv * fc + v * dfc)
