namespace Qmmm.Numerics

/// Slater–Koster two-centre blocks of an sp basis (Slater and Koster, PR 94, 1498 (1954); the paper's Appendix D).
/// A block couples the orbitals (s, px, py, pz) of atom n (rows) with those of atom m (columns) for the bond vector
/// R = y_m − y_n, unit vector u = R/|R|, from the four bond integrals (ss-σ, sp-σ, pp-σ, pp-π):
/// (s, s) = V_ssσ; (s, x_i) = u_i V_spσ; (x_i, s) = −u_i V_spσ; (x_i, x_j) = u_i u_j (V_ppσ − V_ppπ) + δ_ij V_ppπ.
/// The same construction with the overlap integrals gives the overlap block. B(−R) = B(R)ᵀ.
[<RequireQualifiedAccess>]
module SlaterKoster =

    /// Writes the 4×4 sp block (row-major: entry (α, β) at out[o + 4α + β], α orbital of atom n) for the unit vector
    /// (ux, uy, uz) and the bond integrals v[vo .. vo+3] (ss-σ, sp-σ, pp-σ, pp-π).
    let spBlock (v: float[]) (vo: int) (ux: float) (uy: float) (uz: float) (out: float[]) (o: int) =
        let ss = v.[vo]
        let sp = v.[vo + 1]
        let pps = v.[vo + 2]
        let ppp = v.[vo + 3]
        let d = pps - ppp
        out.[o] <- ss
        out.[o + 1] <- ux * sp
        out.[o + 2] <- uy * sp
        out.[o + 3] <- uz * sp
        out.[o + 4] <- -ux * sp
        out.[o + 8] <- -uy * sp
        out.[o + 12] <- -uz * sp
        out.[o + 5] <- ux * ux * d + ppp
        out.[o + 6] <- ux * uy * d
        out.[o + 7] <- ux * uz * d
        out.[o + 9] <- uy * ux * d
        out.[o + 10] <- uy * uy * d + ppp
        out.[o + 11] <- uy * uz * d
        out.[o + 13] <- uz * ux * d
        out.[o + 14] <- uz * uy * d
        out.[o + 15] <- uz * uz * d + ppp

    /// The gradient with respect to the bond vector R (Å) of Σ_αβ X_αβ B_αβ(R), the contraction of a fixed 4×4
    /// weight block X (row-major at x[xo ..]) with the sp block B(R) built from the bond integrals v[vo ..] and their
    /// radial derivatives dv[vo ..] (per Å) at r = |R|. Uses du/dR = (I − u uᵀ)/r. Allocation-free.
    let contractGradient
        (x: float[])
        (xo: int)
        (v: float[])
        (dv: float[])
        (vo: int)
        (rx: float)
        (ry: float)
        (rz: float)
        : Vec3 =
        let r = sqrt (rx * rx + ry * ry + rz * rz)
        let ux, uy, uz = rx / r, ry / r, rz / r
        let ir = 1.0 / r
        // ss-σ: X_ss V_ss(r) → X_ss V_ss' u
        let css = x.[xo] * dv.[vo]
        // sp-σ: V_sp (a·u), a_i = X_{s,i} − X_{i,s}
        let ax = x.[xo + 1] - x.[xo + 4]
        let ay = x.[xo + 2] - x.[xo + 8]
        let az = x.[xo + 3] - x.[xo + 12]
        let au = ax * ux + ay * uy + az * uz
        let sp = v.[vo + 1]
        let dsp = dv.[vo + 1]
        // pp: (V_ppσ − V_ppπ) uᵀ S u + V_ppπ tr S with S the symmetric part of the p block
        let sxx = x.[xo + 5]
        let syy = x.[xo + 10]
        let szz = x.[xo + 15]
        let sxy = 0.5 * (x.[xo + 6] + x.[xo + 9])
        let sxz = 0.5 * (x.[xo + 7] + x.[xo + 13])
        let syz = 0.5 * (x.[xo + 11] + x.[xo + 14])
        let sux = sxx * ux + sxy * uy + sxz * uz
        let suy = sxy * ux + syy * uy + syz * uz
        let suz = sxz * ux + syz * uy + szz * uz
        let usu = ux * sux + uy * suy + uz * suz
        let tr = sxx + syy + szz
        let d = v.[vo + 2] - v.[vo + 3]
        let dd = dv.[vo + 2] - dv.[vo + 3]
        let dppp = dv.[vo + 3]
        // radial part (along u) and transverse parts
        let radial = css + dsp * au + dd * usu + dppp * tr
        let tsp = sp * ir
        let tpp = 2.0 * d * ir

        Vec3(
            radial * ux + tsp * (ax - au * ux) + tpp * (sux - usu * ux),
            radial * uy + tsp * (ay - au * uy) + tpp * (suy - usu * uy),
            radial * uz + tsp * (az - au * uz) + tpp * (suz - usu * uz)
        )
